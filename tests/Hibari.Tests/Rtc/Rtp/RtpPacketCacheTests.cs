using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class RtpPacketCacheTests
{
    private static byte[] Packet(ushort seq)
    {
        var buffer = new byte[40];
        var w = new RtpPacketWriter(buffer, 96, seq, seq * 10u, 1);
        Assert.True(w.TryFinish([(byte)seq, (byte)(seq >> 8), 0xEE], out var n));
        return buffer[..n];
    }

    [Fact]
    public void Returns_the_stored_packet_bytes_for_its_sequence_number()
    {
        using var cache = new RtpPacketCache(16, 100);
        for (ushort s = 1; s <= 10; s++) Assert.True(cache.Store(s, Packet(s)));
        Assert.True(cache.TryGet(7, out var p));
        Assert.Equal(Packet(7), p.ToArray());
        Assert.False(cache.TryGet(11, out _));
    }

    [Fact]
    public void Never_returns_a_packet_that_was_overwritten_by_a_newer_one_in_its_slot()
    {
        using var cache = new RtpPacketCache(16, 100);
        for (ushort s = 0; s < 40; s++) cache.Store(s, Packet(s));
        Assert.False(cache.TryGet(5, out _));   // slot now holds 37
        Assert.False(cache.TryGet(23, out _));  // out of the 16-packet window
        Assert.True(cache.TryGet(24, out var p));
        Assert.Equal(Packet(24), p.ToArray());
    }

    [Fact]
    public void Never_returns_a_stale_packet_after_the_16_bit_sequence_wraps()
    {
        using var cache = new RtpPacketCache(16, 100);
        cache.Store(5, Packet(5));
        // The stream continues a whole cycle, storing only numbers that avoid slot 5 (a sparse cache).
        for (var s = 6; s <= 65536 + 10; s++)
            if ((s & 15) != 5) cache.Store((ushort)s, Packet((ushort)s));
        Assert.False(cache.TryGet(5, out _)); // within the window now means 65541, not the old 5
    }

    [Fact]
    public void A_jump_ahead_invalidates_skipped_slots()
    {
        using var cache = new RtpPacketCache(16, 100);
        for (ushort s = 0; s < 16; s++) cache.Store(s, Packet(s));
        cache.Store(20, Packet(20));
        Assert.False(cache.TryGet(4, out _)); // 20 - 16 = 4 fell out
        Assert.True(cache.TryGet(5, out _));
        Assert.False(cache.TryGet(17, out _)); // skipped, never stored
    }

    [Fact]
    public void Late_packets_within_the_window_are_stored_and_too_old_ones_refused()
    {
        using var cache = new RtpPacketCache(16, 100);
        cache.Store(100, Packet(100));
        Assert.True(cache.Store(95, Packet(95)));
        Assert.True(cache.TryGet(95, out _));
        Assert.False(cache.Store(80, Packet(80)));
        Assert.False(cache.TryGet(80, out _));
    }

    [Fact]
    public void Works_across_the_wrap_and_refuses_oversized_packets()
    {
        using var cache = new RtpPacketCache(64, 30);
        for (var s = 65500; s < 65560; s++) cache.Store((ushort)s, Packet((ushort)s));
        Assert.True(cache.TryGet(65535, out var a));
        Assert.Equal(Packet(65535), a.ToArray());
        Assert.True(cache.TryGet(10, out var b));
        Assert.Equal(Packet(10), b.ToArray());
        Assert.False(cache.TryGet(65495, out _)); // never stored, and 65 behind
        Assert.False(cache.Store(64, new byte[31]));
    }

    [Fact]
    public void Storing_after_warm_up_does_not_allocate()
    {
        using var cache = new RtpPacketCache(512, 1200);
        var packet = Packet(1);
        for (var i = 0; i < 1000; i++) cache.Store((ushort)i, packet);
        Assert.Equal(0, Allocations.Min(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                cache.Store((ushort)i, packet);
                cache.TryGet((ushort)(i - 100), out _);
            }
        }));
    }

    [Fact]
    public void Disposed_cache_stores_and_returns_nothing()
    {
        var cache = new RtpPacketCache(16, 100);
        cache.Store(1, Packet(1));
        cache.Dispose();
        Assert.False(cache.TryGet(1, out _));
        Assert.False(cache.Store(2, Packet(2)));
    }

    [Fact]
    public void Packets_of_any_size_come_back_intact_and_old_bytes_give_way_to_new()
    {
        // 4 KiB of bytes for 64 slots of packets of up to 1,000 bytes: the bytes, not the slots, bound what is kept.
        using var cache = new RtpPacketCache(64, 1000, ringBytes: 4096);
        Assert.Equal(4096, cache.RingBytes);
        var random = new Random(5);
        var stored = new List<(ushort Seq, byte[] Bytes)>();
        for (ushort s = 0; s < 2000; s++)
        {
            var bytes = new byte[random.Next(12, 1001)];
            random.NextBytes(bytes);
            Assert.True(cache.Store(s, bytes));
            stored.Add((s, bytes));
            // The newest packets whose bytes (with the ones after them) fit in 4096 − 1000 are certainly still there,
            // and whatever is returned is exactly what was stored under that number.
            var behind = 0;
            for (var i = stored.Count - 1; i >= 0 && stored.Count - i <= 64; i--)
            {
                behind += stored[i].Bytes.Length;
                var found = cache.TryGet(stored[i].Seq, out var p);
                if (found) Assert.Equal(stored[i].Bytes, p.ToArray());
                if (behind <= 4096 - 1000) Assert.True(found, $"packet {stored[i].Seq} ({behind} bytes back) is missing");
            }
            Assert.False(cache.TryGet((ushort)(s - 64), out _)); // out of the slot window
        }
    }

    [Fact]
    public void The_default_ring_holds_every_slot_at_the_longest_packet()
    {
        using var cache = new RtpPacketCache(16, 100);
        Assert.True(cache.RingBytes >= 16 * 100);
        for (ushort s = 0; s < 16; s++) Assert.True(cache.Store(s, new byte[100]));
        for (ushort s = 0; s < 16; s++) Assert.True(cache.TryGet(s, out _));
    }
}
