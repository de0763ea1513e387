using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Sdp;
using Hibari.Sfu;

namespace Hibari.Tests.Sfu.Spotlight;

/// <summary>
/// Spotlight across relay on a node that does not decide (D-40): the decider's focus frame can arrive before the focused
/// sender's ConnectionUp/TrackUp (they come on different paths). Such a sender must not count as focused silently: when
/// the decider repeats its focus after the sender is known, the receivers here are told `spotlight.focused`.
/// </summary>
[Collection("sfu")]
public sealed class SpotlightRemoteFocusTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private sealed class Follower : IRelayFanout
    {
        public void Relay(Publication publication, ReadOnlySpan<byte> packet) { }
        public void SenderReport(Publication publication, ulong ntp, uint rtp) { }
        public bool DecidesSpotlight => false;
        public void SpotlightFocus(int number, IReadOnlyList<(string ConnectionId, bool Fixed)> focused) { }
    }

    private sealed class NoKeyFrames : IKeyFrameTarget
    {
        public void SendPli(uint mediaSsrc) { }
    }

    [Fact]
    public async Task A_focus_that_arrives_before_the_sender_is_told_when_the_decider_repeats_it()
    {
        await using var node = await InProcessNode.StartAsync();
        var extra = new JsonObject { ["spotlight"] = true, ["spotlight_number"] = 1 };
        await using var receiver = new SyntheticClient(node.SignalingUrl, "spot-remote",
            new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate, ConnectExtra = extra });
        await receiver.ConnectAsync();
        var sfu = node.Node.Sfu;
        var sessionId = sfu.SessionIdOf("spot-remote")!;
        await OnControl(sfu, () => sfu.SetRelay(sessionId, new Follower()));

        const string remote = "REMOTESENDER0000000000000A";
        IReadOnlyList<(string, bool)> focus = [(remote, false)];
        // The decider's frame first: the sender is not known here yet.
        await OnControl(sfu, () => sfu.ApplyRemoteSpotlight(sessionId, 1, focus));
        // Then its connection and audio track, then the decider's repeat (every 2 s in a real cluster).
        await OnControl(sfu, () =>
        {
            sfu.AddRemoteConnection("n0@127.0.0.9", sessionId, new ConnectionInfo
            {
                ConnectionId = remote, ClientId = remote, BundleId = remote, ChannelId = "spot-remote", Role = ConnectionRole.SendOnly, Spotlight = true,
            });
            sfu.AddRemoteTrack(sessionId, remote, "audio-0", MediaKind.Audio, 0x1234_5678, CodecCatalog.Opus, new NoKeyFrames());
        });
        await OnControl(sfu, () => sfu.ApplyRemoteSpotlight(sessionId, 1, focus));

        await InProcessNode.EventuallyAsync("the receiver is told the remote sender is focused", () => receiver.Messages.Any(m =>
            (string?)m["type"] == "notify" && (string?)m["event_type"] == "spotlight.focused" && (string?)m["connection_id"] == remote),
            TimeSpan.FromSeconds(10));
    }

    private static Task OnControl(SfuEngine sfu, Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sfu.PostControl(() =>
        {
            try { work(); done.SetResult(); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }
}
