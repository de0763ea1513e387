using System.Text;
using System.Text.Json;
using Hibari.Signaling.Messages;
using Hibari.Signaling.Rpc;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Signaling.Rpc;

/// <summary>The `rpc` data channel's JSON-RPC 2.0 reader and writer, the methods' gate, and the offer's fields (D-36).</summary>
public sealed class JsonRpcTests
{
    private static JsonElement Read(byte[] utf8) => JsonDocument.Parse(utf8).RootElement.Clone();

    [Fact]
    public void A_request_as_sora_js_sdk_sends_it_is_read()
    {
        Assert.True(JsonRpc.TryParse("""{"jsonrpc":"2.0","method":"2025.2.0/RequestSimulcastRid","id":3,"params":{"rid":"r1"}}"""u8, out var r, out _));
        Assert.Equal("2025.2.0/RequestSimulcastRid", r.Method);
        Assert.Equal(3, r.Id!.Value.GetInt32());
        Assert.Equal("r1", r.Params!.Value.GetProperty("rid").GetString());
        Assert.False(r.IsNotification);

        Assert.True(JsonRpc.TryParse("""{"jsonrpc":"2.0","method":"m"}"""u8, out var n, out _));
        Assert.True(n.IsNotification);
        Assert.Null(n.Params);
    }

    [Theory]
    [InlineData("not json", -32700, false)]
    [InlineData("[1,2]", -32600, false)]
    [InlineData("""{"method":"m","id":1}""", -32600, true)]
    [InlineData("""{"jsonrpc":"1.0","method":"m","id":1}""", -32600, true)]
    [InlineData("""{"jsonrpc":"2.0","id":1}""", -32600, true)]
    [InlineData("""{"jsonrpc":"2.0","method":"","id":1}""", -32600, true)]
    [InlineData("""{"jsonrpc":"2.0","method":"m","params":"x","id":1}""", -32600, true)]
    [InlineData("""{"jsonrpc":"2.0","method":"m","id":{}}""", -32600, false)]
    public void Malformed_requests_get_the_specifications_error(string json, int code, bool idKept)
    {
        Assert.False(JsonRpc.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        var e = Read(error);
        Assert.Equal("2.0", e.GetProperty("jsonrpc").GetString());
        Assert.Equal(code, e.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(idKept ? JsonValueKind.Number : JsonValueKind.Null, e.GetProperty("id").ValueKind);
    }

    [Fact]
    public void Oversized_or_invalid_utf8_is_a_parse_error()
    {
        Assert.False(JsonRpc.TryParse(new byte[JsonRpc.MaxRequestBytes + 1], out _, out var big));
        Assert.Equal(-32700, Read(big).GetProperty("error").GetProperty("code").GetInt32());
        Assert.False(JsonRpc.TryParse([0x7B, 0xFF, 0x7D], out _, out var bad));
        Assert.Equal(-32700, Read(bad).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public void Result_and_error_echo_a_string_id()
    {
        Assert.True(JsonRpc.TryParse("""{"jsonrpc":"2.0","method":"m","id":"abc"}"""u8, out var r, out _));
        var ok = Read(JsonRpc.Result(r.Id, w => w.WriteStringValue("done")));
        Assert.Equal("abc", ok.GetProperty("id").GetString());
        Assert.Equal("done", ok.GetProperty("result").GetString());
        var err = Read(JsonRpc.Error(r.Id, RpcErrors.MethodNotFound, "x"));
        Assert.Equal("abc", err.GetProperty("id").GetString());
        Assert.False(err.TryGetProperty("result", out _));
    }

    [Fact]
    public void Only_implemented_methods_of_the_auth_answer_are_allowed()
    {
        Assert.Empty(RpcMethods.Allowed(null, NullLogger.Instance, "c"));
        Assert.Equal([RpcMethods.RequestSimulcastRid],
            RpcMethods.Allowed(["2099.1.0/Nope", RpcMethods.RequestSimulcastRid, RpcMethods.RequestSimulcastRid], NullLogger.Instance, "c"));
    }

    [Fact]
    public void A_method_not_handed_out_is_method_not_found_and_a_notification_gets_no_answer()
    {
        var caller = new Hibari.Sfu.ConnectionInfo { ConnectionId = "C", ClientId = "C", BundleId = "C", ChannelId = "ch", Role = Hibari.Sfu.ConnectionRole.RecvOnly };
        Assert.True(JsonRpc.TryParse("""{"jsonrpc":"2.0","method":"2025.2.0/RequestSimulcastRid","id":1,"params":{"rid":"r1"}}"""u8, out var r, out _));
        var answer = Read(RpcMethods.Handle(r, caller, sfu: null!)!);
        Assert.Equal(RpcErrors.MethodNotFound, answer.GetProperty("error").GetProperty("code").GetInt32());
        Assert.True(JsonRpc.TryParse("""{"jsonrpc":"2.0","method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r1"}}"""u8, out var n, out _));
        Assert.Null(RpcMethods.Handle(n, caller, sfu: null!));
    }

    [Fact]
    public void The_offer_lists_rpc_methods_and_the_rpc_label()
    {
        var dcs = ServerMessages.OfferDataChannels(true, [], rpc: true);
        Assert.Equal(["signaling", "notify", "push", "stats", "rpc"], dcs.EnumerateArray().Select(d => d.GetProperty("label").GetString()));
        Assert.DoesNotContain("rpc", ServerMessages.OfferDataChannels(true, []).EnumerateArray().Select(d => d.GetProperty("label").GetString()));
        var offer = Read(ServerMessages.Offer(new OfferMessage
        {
            Sdp = "v=0\r\n", ConnectionId = "C", ClientId = "C", BundleId = "C", SessionId = "S", ChannelId = "ch",
            RpcMethods = [RpcMethods.RequestSimulcastRid],
        }));
        Assert.Equal([RpcMethods.RequestSimulcastRid], offer.GetProperty("rpc_methods").EnumerateArray().Select(m => m.GetString()));
    }

    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5000;

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Mutated_requests_never_throw_and_always_answer_json_rpc()
    {
        var seeds = new[]
        {
            """{"jsonrpc":"2.0","method":"2025.2.0/RequestSimulcastRid","id":1,"params":{"rid":"r2","sender_connection_id":"X"}}""",
            """{"jsonrpc":"2.0","method":"m","params":[1,2,{"a":null}]}""",
        }.Select(Encoding.UTF8.GetBytes).ToArray();
        var random = new Random(36);
        for (var i = 0; i < Iterations; i++)
        {
            var input = seeds[i % seeds.Length].ToArray();
            for (var k = random.Next(1, 6); k > 0; k--) input[random.Next(input.Length)] = (byte)random.Next(256);
            if (JsonRpc.TryParse(input, out var r, out var error)) Assert.False(string.IsNullOrEmpty(r.Method));
            else Assert.Equal("2.0", Read(error).GetProperty("jsonrpc").GetString());
        }
    }
}
