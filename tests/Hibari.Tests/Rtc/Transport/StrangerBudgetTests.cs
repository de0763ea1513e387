using System.Net;
using Hibari.Rtc.Transport;

namespace Hibari.Tests.Rtc.Transport;

public sealed class StrangerBudgetTests
{
    private static EndpointKey Key(string ip, int port) => EndpointKey.From(new IPEndPoint(IPAddress.Parse(ip), port));

    [Fact]
    public void An_address_gets_its_budget_per_second_whatever_port_it_sends_from_then_is_dropped_until_the_next_second()
    {
        var budget = new StrangerBudget(5);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(budget.Exhausted(Key("192.0.2.1", 1000 + i), 10));
            budget.Charge(Key("192.0.2.1", 1000 + i), 10);
        }
        Assert.True(budget.Exhausted(Key("192.0.2.1", 2000), 999_999));
        Assert.True(budget.Exhausted(Key("192.0.2.1", 2001), 500_000));
        Assert.Equal(2, budget.Dropped);
        // A second after the window began, a new one starts.
        Assert.False(budget.Exhausted(Key("192.0.2.1", 2000), 1_000_010));
        budget.Charge(Key("192.0.2.1", 2000), 1_000_010);
        Assert.False(budget.Exhausted(Key("192.0.2.1", 2000), 1_000_011));
        Assert.Equal(2, budget.Dropped);
    }

    [Fact]
    public void Another_address_has_its_own_budget()
    {
        var a = Key("192.0.2.1", 1);
        var b = Key("2001:db8::1", 1);
        Assert.NotEqual(StrangerBudget.Index(a), StrangerBudget.Index(b)); // the test's premise: no shared slot
        var budget = new StrangerBudget(3);
        for (var i = 0; i < 3; i++) budget.Charge(a, 0);
        Assert.True(budget.Exhausted(a, 1));
        Assert.False(budget.Exhausted(b, 1));
    }

    [Fact]
    public void Zero_is_no_budget()
    {
        var budget = new StrangerBudget(0);
        for (var i = 0; i < 100_000; i++) budget.Charge(Key("192.0.2.1", 1), i);
        Assert.False(budget.Exhausted(Key("192.0.2.1", 1), 100_000));
        Assert.Equal(0, budget.Dropped);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StrangerBudget(-1));
    }

    [Fact]
    public void Property_one_address_alone_never_gets_more_than_its_budget_in_any_window_and_slots_stay_spread()
    {
        var random = new Random(7);
        for (var round = 0; round < 200; round++)
        {
            var perSecond = random.Next(1, 50);
            var budget = new StrangerBudget(perSecond);
            var key = Key($"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}", random.Next(1, 65536));
            long now = random.Next(0, 10_000_000), windowStart = -1;
            var passed = 0;
            for (var i = 0; i < 500; i++)
            {
                now += random.Next(0, 20_000);
                if (budget.Exhausted(key, now)) continue;
                if (windowStart < 0 || now - windowStart >= 1_000_000) { windowStart = now; passed = 0; }
                budget.Charge(key, now);
                passed++;
                Assert.True(passed <= perSecond, $"round {round}: {passed} passed in one window with a budget of {perSecond}");
            }
        }
        // The hash spreads consecutive IPv4 addresses (a /20 of clients) over the table: few share a slot.
        var used = new HashSet<int>();
        for (var i = 0; i < StrangerBudget.Slots; i++) used.Add(StrangerBudget.Index(Key($"10.0.{i / 256}.{i % 256}", 5000)));
        Assert.True(used.Count > StrangerBudget.Slots / 2, $"{used.Count} slots used by {StrangerBudget.Slots} addresses");
    }
}
