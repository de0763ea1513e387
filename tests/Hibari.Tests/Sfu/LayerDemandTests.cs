using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

/// <summary>The per-layer counts behind LayerDemand frames (D-39): a layer is needed while any subscription wants it.</summary>
public sealed class LayerDemandTests
{
    [Fact]
    public void A_layer_is_needed_while_one_subscription_wants_it()
    {
        var d = new LayerDemand(3);
        Assert.Equal(0, d.Mask);
        d.Change(0, 0b001);          // A wants r0
        d.Change(0, 0b100);          // B wants r2
        Assert.Equal(0b101, d.Mask);
        d.Change(0b001, 0b101);      // A switching r0 → r2: both until done
        d.Change(0b101, 0b100);      // A done
        Assert.Equal(0b100, d.Mask);
        d.Change(0b100, 0);          // B leaves
        Assert.Equal(0b100, d.Mask); // A still wants r2
        d.Change(0b100, 0);
        Assert.Equal(0, d.Mask);
    }

    [Fact]
    public void Concurrent_changes_from_many_threads_balance_out()
    {
        var d = new LayerDemand(3);
        Parallel.For(0, 64, i =>
        {
            var mask = 1 << (i % 3);
            for (var k = 0; k < 1000; k++)
            {
                d.Change(0, mask);
                d.Change(mask, 0);
            }
        });
        Assert.Equal(0, d.Mask);
    }
}
