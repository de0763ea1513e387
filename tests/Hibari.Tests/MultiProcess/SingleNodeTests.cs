namespace Hibari.Tests.MultiProcess;

/// <summary>A node with nothing but a listen address: the README's "run one node with the defaults".</summary>
[Collection("processes")]
public sealed class SingleNodeTests : IAsyncLifetime
{
    private NodeProcess? _node;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hibari-bare-" + Guid.NewGuid().ToString("n")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Node_with_only_listen_address_serves_the_api_on_default_ports()
    {
        _node = new NodeProcess("bare", "127.0.0.2", _dir, 3000, 5000, [], bare: true);
        _node.Start();
        await _node.WaitForApiAsync(TimeSpan.FromSeconds(60));
        var (status, body, _) = await _node.ApiAsync("Sora_20211215.GetMode");
        Assert.Equal(200, status);
        Assert.Equal("normal", body!["mode"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"block_new_session"}""");
        Assert.Equal(200, status);
        (status, body, _) = await _node.ApiAsync("Sora_20211215.GetMode");
        Assert.Equal("block_new_session", body!["mode"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20211215.ListClusterNodes");
        Assert.Equal(400, status);
        Assert.Equal("ClusterDisabled", body!["error_type"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Equal(200, status);
        Assert.Null(body!["cluster"]);
        // Not a cluster node: signaling is not refused for cluster reasons (the media engine comes with the SFU).
        var (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(_node, 5000);
        Assert.Equal(4503, code);
        Assert.Equal("MEDIA-ENGINE-UNAVAILABLE", reason);
    }
}
