using System.Buffers.Binary;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 13 part 3: DTLS handshakes of a running node fed garbage. Clients that pass signaling and ICE (so the node
/// starts its DTLS server for them) send mutated DTLS records instead of a handshake — handshake messages with random
/// bodies, lengths that disagree, fragments past the end, other content types and versions, truncated records — while a
/// call runs on the node. Each such connection is closed with 4423 DTLS-FAILED: at once when BouncyCastle refuses what
/// it got, else at the SFU's handshake timeout (20 s, `Negotiator`; no handshake thread held longer); the running call
/// keeps delivering, and a new pair gets media afterwards.
/// HIBARI_FUZZ_ITERATIONS records in all, spread over the 12 clients (default 300 each).
/// </summary>
[Collection("sfu")]
public sealed class LiveDtlsFuzzTests(ITestOutputHelper output)
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static int PerClient =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? Math.Max(300, n / 12) : 300; // 12 clients: HIBARI_FUZZ_ITERATIONS records in all

    /// <summary>A DTLS 1.2 record (RFC 6347 §4.1) around a handshake message (§4.2.2), every field possibly wrong.</summary>
    private static byte[] Record(Random r)
    {
        var body = new byte[r.Next(0, 1200)];
        r.NextBytes(body);
        var fragment = new byte[12 + body.Length];
        fragment[0] = (byte)(r.Next(4) == 0 ? r.Next(256) : new byte[] { 1, 2, 11, 12, 14, 16, 20 }[r.Next(7)]); // ClientHello ... Finished
        var length = r.Next(3) == 0 ? r.Next(1 << 24) : body.Length;
        fragment[1] = (byte)(length >> 16); fragment[2] = (byte)(length >> 8); fragment[3] = (byte)length;
        BinaryPrimitives.WriteUInt16BigEndian(fragment.AsSpan(4), (ushort)r.Next(0, 4));          // message_seq
        var offset = r.Next(4) == 0 ? r.Next(1 << 24) : 0;
        fragment[6] = (byte)(offset >> 16); fragment[7] = (byte)(offset >> 8); fragment[8] = (byte)offset;
        var fragLength = r.Next(4) == 0 ? r.Next(1 << 24) : body.Length;
        fragment[9] = (byte)(fragLength >> 16); fragment[10] = (byte)(fragLength >> 8); fragment[11] = (byte)fragLength;
        body.CopyTo(fragment, 12);
        var record = new byte[13 + fragment.Length];
        record[0] = (byte)(r.Next(5) == 0 ? r.Next(20, 26) : 22);                                    // handshake, or CCS/alert/data/heartbeat
        record[1] = 0xFE; record[2] = (byte)(r.Next(5) == 0 ? r.Next(256) : 0xFD);                   // DTLS 1.2 (or not)
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(3), (ushort)(r.Next(6) == 0 ? r.Next(65536) : 0)); // epoch
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(9), (ushort)r.Next(65536));             // sequence (low bits)
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(11), (ushort)(r.Next(5) == 0 ? r.Next(65536) : fragment.Length));
        fragment.CopyTo(record, 13);
        return r.Next(8) == 0 ? record[..r.Next(1, record.Length)] : record;
    }

    [Fact, Trait("Category", "Fuzz")]
    public async Task Garbage_handshakes_fail_within_the_timeout_and_never_stop_the_node_or_its_calls()
    {
        const int Clients = 12;
        await using var node = await InProcessNode.StartAsync();
        await using var call = await node.StartCallAsync("dtls-fuzz", Certificate);
        var sub = call.Subscriber;

        var fuzzers = new List<SyntheticClient>();
        try
        {
            for (var i = 0; i < Clients; i++)
            {
                var f = new SyntheticClient(node.SignalingUrl, "dtls-fuzz-" + i, new SyntheticClientOptions { Role = "sendrecv", Certificate = Certificate, StopAfterIce = true });
                fuzzers.Add(f);
                await f.ConnectAsync();
            }
            var started = DateTime.UtcNow;
            var received = sub.PacketsReceived;
            var random = new Random(20261207);
            var sent = 0;
            foreach (var f in fuzzers)
                for (var k = 0; k < PerClient; k++, sent++)
                    f.SendRaw(Record(random));
            output.WriteLine($"{sent} mutated DTLS records from {Clients} clients past ICE");
            // Every one is ended by the node with DTLS-FAILED within the handshake timeout (10 s) plus a margin.
            var closedAt = new double?[Clients];
            await InProcessNode.EventuallyAsync("every fuzzing client closed", () =>
            {
                for (var i = 0; i < Clients; i++)
                    if (closedAt[i] is null && fuzzers[i].CloseStatus is not null) closedAt[i] = (DateTime.UtcNow - started).TotalMilliseconds;
                return closedAt.All(t => t is not null);
            }, TimeSpan.FromSeconds(30));
            output.WriteLine($"closed after (ms): {string.Join(", ", closedAt.Select(t => t!.Value.ToString("F0")))}; codes: {string.Join(",", fuzzers.Select(f => (int)f.CloseStatus!.Value).Distinct())}");
            Assert.All(closedAt, t => Assert.True(t < 23_000, $"closed {t} ms after the garbage: later than the 20 s handshake timeout"));
            Assert.All(fuzzers, f => Assert.Equal(4423, (int)f.CloseStatus!.Value));
            Assert.True(sub.PacketsReceived > received + 50, "the running call stopped delivering");
        }
        finally
        {
            foreach (var f in fuzzers) await f.DisposeAsync();
        }
        await call.DisposeAsync();
        await node.AssertNewPairGetsMediaAsync("dtls-fuzz-after", Certificate);
    }
}
