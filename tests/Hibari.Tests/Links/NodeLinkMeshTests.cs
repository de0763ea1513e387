using System.Net;
using System.Text;
using Hibari.Cluster.Links;

namespace Hibari.Tests.Links;

/// <summary>Several hosts: full mesh, and the pair rule (one link per pair, the same one on both ends).</summary>
public class NodeLinkMeshTests
{
    [Fact]
    public async Task Three_hosts_form_a_full_mesh_and_talk_over_every_pair()
    {
        await using var n1 = TestNode.Start("n1@127.0.0.1");
        await using var n2 = TestNode.Start("n2@127.0.0.1");
        await using var n3 = TestNode.Start("n3@127.0.0.1");
        TestNode[] nodes = [n1, n2, n3];
        foreach (var node in nodes)
            node.Host.SetPeers(nodes.Where(other => other != node).ToDictionary(other => other.Name, other => other.EndPoint));

        await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(n1, n2) && LinkTestKit.SettledOnOneLink(n1, n3) && LinkTestKit.SettledOnOneLink(n2, n3),
            "every pair is linked by one settled link");

        foreach (var from in nodes)
            foreach (var to in nodes.Where(other => other != from))
            {
                var answer = await from.Host.RequestAsync(to.Name, Encoding.UTF8.GetBytes(from.Name), TimeSpan.FromSeconds(10), CancellationToken.None);
                Assert.Equal("echo:" + from.Name, Encoding.UTF8.GetString(answer));
                Assert.True(from.Host.Send(to.Name, 9, Encoding.UTF8.GetBytes($"{from.Name}->{to.Name}")));
            }
        await LinkTestKit.Until(() => nodes.All(node => node.Handler.Messages.Count == 2), "each node got a message from each other node");
        foreach (var node in nodes)
        {
            Assert.Equal(2, node.Handler.Transitions.Length);
            Assert.All(node.Handler.Messages, m => Assert.Equal($"{m.Peer}->{node.Name}", Encoding.UTF8.GetString(m.Payload)));
        }
    }

    [Fact]
    public async Task A_duplicate_dial_by_the_larger_name_is_refused_and_the_existing_link_stays()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        a.Host.SetPeers(new Dictionary<string, IPEndPoint> { [b.Name] = b.EndPoint });
        await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(a, b), "a dialled b");
        var before = a.Host.DescribeLink(b.Name);

        bool linked = await b.Host.DialAsync(a.Name, a.EndPoint, CancellationToken.None); // b dials although linked

        Assert.False(linked);
        Assert.Equal(1, a.Host.Counters.DuplicateLinksClosed);
        await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(a, b), "one shared link");
        Assert.Equal(before, a.Host.DescribeLink(b.Name));
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
        Assert.Equal(["up:" + a.Name], b.Handler.Transitions);
    }

    [Fact]
    public async Task A_second_dial_by_the_preferred_dialer_replaces_the_link_on_both_ends_without_a_down()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        b.Host.SetPeers(new Dictionary<string, IPEndPoint> { [a.Name] = a.EndPoint });
        await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(a, b), "b dialled a");
        Assert.Equal(b.Name, a.Host.DescribeLink(b.Name)?.Dialer);

        bool linked = await a.Host.DialAsync(b.Name, b.EndPoint, CancellationToken.None); // a's dial wins the pair rule

        Assert.True(linked);
        await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(a, b) && a.Host.DescribeLink(b.Name)?.Dialer == a.Name,
            "both ends use a's link and the superseded one closed");
        await Task.Delay(LinkTestKit.Options(a.Name).DeadAfter + TimeSpan.FromMilliseconds(500)); // past the successor grace
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
        Assert.Equal(["up:" + a.Name], b.Handler.Transitions);
        // Under load the settled link may still be finishing its handshake bookkeeping: wait for it, then use it.
        await LinkTestKit.Until(() => b.Host.IsConnected(a.Name), "b's link to a usable");
        Assert.Equal("echo:after", Encoding.UTF8.GetString(await b.Host.RequestAsync(a.Name, "after"u8.ToArray(), TimeSpan.FromSeconds(10), CancellationToken.None)));
    }

    [Fact]
    public async Task Pairs_dialling_each_other_at_once_settle_on_exactly_one_shared_link()
    {
        for (int round = 0; round < 5; round++)
        {
            await using var a = TestNode.Start($"a{round}@127.0.0.1");
            await using var b = TestNode.Start($"b{round}@127.0.0.1");
            var toB = new Dictionary<string, IPEndPoint> { [b.Name] = b.EndPoint };
            var toA = new Dictionary<string, IPEndPoint> { [a.Name] = a.EndPoint };
            await Task.WhenAll(Task.Run(() => a.Host.SetPeers(toB)), Task.Run(() => b.Host.SetPeers(toA)));

            await LinkTestKit.Until(() => LinkTestKit.SettledOnOneLink(a, b), "one shared link");
            await LinkTestKit.Holds(() => LinkTestKit.SettledOnOneLink(a, b), "the shared link", TimeSpan.FromMilliseconds(300));
            Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
            Assert.Equal(["up:" + a.Name], b.Handler.Transitions);
        }
    }
}
