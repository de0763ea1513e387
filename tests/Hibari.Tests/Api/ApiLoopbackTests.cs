using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Api;

/// <summary>
/// Issue 13 part 5: `api_loopback_address_only` (Sora's key) keeps the HTTP API on a loopback address while signaling
/// listens on `listen_address`. The node listens on 0.0.0.0 here, so 127.0.0.2 (another address of this host) reaches
/// whatever listens on the wildcard and nothing that listens on 127.0.0.1 only.
/// </summary>
[Collection("sfu")]
public sealed class ApiLoopbackTests
{
    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (SocketException) { return false; }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_api_listens_on_loopback_only_when_asked_and_signaling_stays_on_listen_address(bool loopbackOnly)
    {
        await using var node = await InProcessNode.StartAsync(o => o with
        {
            ListenAddress = IPAddress.Any,
            RtcPublicAddress = IPAddress.Loopback,
            ApiLoopbackAddressOnly = loopbackOnly,
        });
        var other = IPAddress.Parse("127.0.0.2");
        Assert.Equal(200, (await node.ApiAsync("Sora_20211215.GetMode")).Status); // on 127.0.0.1 either way
        Assert.Equal(!loopbackOnly, await AcceptsAsync(other, node.Options.ApiPort));
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://{other}:{node.Options.SignalingPort}/signaling"), new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        Assert.Equal(WebSocketState.Open, ws.State);
    }
}
