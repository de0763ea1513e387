using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Webhooks;

namespace Hibari.Tests.Sfu.Spotlight;

/// <summary>
/// D-55: the session.created webhook's answer `spotlight_number` sets the session's spotlight number (Sora recommends
/// it over the auth webhook's), whether it arrives before or after the first spotlight connection opened the room.
/// </summary>
[Collection("sfu")]
public sealed class SpotlightSessionWebhookTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public async Task The_session_created_answer_sets_the_spotlight_number_over_the_connections_own()
    {
        await using var hooks = await WebhookTestServer.StartAsync();
        hooks.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """{"spotlight_number":3}""");
        await using var node = await InProcessNode.StartAsync(o => o with { SessionWebhookUrl = hooks.Url + "/session" });
        await using var c = new SyntheticClient(node.SignalingUrl, "spot-hook", new SyntheticClientOptions
        {
            Certificate = Certificate, Role = "sendrecv",
            ConnectExtra = new JsonObject { ["spotlight"] = true, ["spotlight_number"] = 1 },
        });
        await c.ConnectAsync();
        var session = node.Node.Sfu.SessionById(c.SessionId!)!;
        // Read without the topology lock: a test's poll of two values the control context writes.
        await InProcessNode.EventuallyAsync("the session's spotlight number is the webhook's",
            () => session.SpotlightNumber == 3 && session.Spotlight?.Selector.SpotlightNumber == 3);
    }
}
