using System.Text.Json;
using Hibari.Recording;

namespace Hibari.Tests.Recording;

/// <summary>StartRecording's body and the session.created answer's recording fields (docs/decisions.md D-58).</summary>
public sealed class RecordingRequestTests
{
    private static RecordingRequest? Api(string json, out string? error) =>
        RecordingRequest.FromApi(JsonDocument.Parse(json).RootElement, 86_400, 3_600, out error);

    [Fact]
    public void A_full_request_is_read()
    {
        var r = Api("""{"channel_id":"c","expire_time":60,"split_duration":10,"split_only":true,"metadata":{"k":1}}""", out var error);
        Assert.Null(error);
        Assert.Equal(60, r!.ExpireTime);
        Assert.Equal(10, r.SplitDuration);
        Assert.True(r.SplitOnly);
        Assert.Equal(1, r.Metadata!.Value.GetProperty("k").GetInt32());
    }

    [Fact]
    public void Nothing_but_the_channel_means_one_file_until_stopped()
    {
        var r = Api("""{"channel_id":"c"}""", out _);
        Assert.Equal(new RecordingRequest(), r);
    }

    [Theory]
    [InlineData("""{"expire_time":0}""", "expire_time")]
    [InlineData("""{"expire_time":86401}""", "expire_time")]
    [InlineData("""{"expire_time":"60"}""", "expire_time")]
    [InlineData("""{"expire_time":1.5}""", "expire_time")]
    [InlineData("""{"split_duration":3601}""", "split_duration")] // the configured maximum
    [InlineData("""{"split_only":true}""", "split_only needs split_duration")]
    [InlineData("""{"split_only":1,"split_duration":5}""", "split_only")]
    [InlineData("""{"metadata":[1]}""", "metadata")]
    [InlineData("""{"metadata":"x"}""", "metadata")]
    public void Bad_fields_are_refused_with_a_message_naming_them(string json, string named)
    {
        Assert.Null(Api(json, out var error));
        Assert.Contains(named, error);
    }

    [Fact]
    public void The_session_answer_uses_the_recording_prefixed_names()
    {
        var answer = JsonDocument.Parse("""{"recording":true,"recording_expire_time":30,"recording_split_duration":5,"recording_split_only":false,"recording_metadata":{"a":"b"}}""").RootElement;
        var r = RecordingRequest.FromSessionAnswer(answer, 86_400, 86_400, out var error);
        Assert.Null(error);
        Assert.Equal(30, r!.ExpireTime);
        Assert.Equal(5, r.SplitDuration);
        Assert.False(r.SplitOnly);
        Assert.Equal("b", r.Metadata!.Value.GetProperty("a").GetString());
        Assert.Null(RecordingRequest.FromSessionAnswer(JsonDocument.Parse("""{"recording_expire_time":-1}""").RootElement, 86_400, 86_400, out error));
        Assert.Contains("recording_expire_time", error);
    }
}
