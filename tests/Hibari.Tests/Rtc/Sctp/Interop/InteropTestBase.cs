using Hibari.Rtc.Sctp;
using Hibari.Tests.Rtc.Sctp.Usrsctp;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Sctp.Interop;

/// <summary>
/// Creates peers (managed or usrsctp) on an <see cref="SctpTestPipe"/> with a 5 ms one-way delay and 1 ms clock steps,
/// disposes them after the test and checks that the oracle's callbacks never threw.
/// </summary>
public abstract class InteropTestBase : IDisposable
{
    private readonly List<IDisposable> _created = new();
    protected readonly ITestOutputHelper Output;

    protected InteropTestBase(ITestOutputHelper output)
    {
        Output = output;
        // Fail (never skip) without the library: scripts/test.sh installs it.
        Assert.True(UsrsctpAvailable.IsAvailable, UsrsctpAvailable.Problem);
    }

    public void Dispose()
    {
        foreach (var c in _created) c.Dispose();
        Assert.Null(UsrsctpAssociation.LastCallbackError);
    }

    internal InteropPeer NewPeer(Impl impl, int seed) => InteropPeer.Create(impl, seed, _created);

    internal static SctpTestPipe NewPipe(InteropPeer a, InteropPeer b, int seed) =>
        new(a.Sctp, b.Sctp, seed) { DelayMicros = 5_000, StepMicros = 1_000 };

    /// <summary>A connected pair on a 10 ms-RTT pipe; <paramref name="a"/> sends the INIT, <paramref name="b"/> is passive.</summary>
    internal (InteropPeer A, InteropPeer B, SctpTestPipe Pipe) Connected(Impl a, Impl b, int seed)
    {
        var pa = NewPeer(a, seed * 2 + 1);
        var pb = NewPeer(b, seed * 2 + 2);
        var pipe = NewPipe(pa, pb, seed);
        pa.Sctp.Start(sendInit: true);
        pb.Sctp.Start(sendInit: false);
        pipe.Pump(() => pa.EstablishedCount == 1 && pb.EstablishedCount == 1, $"{a} → {b} association up", TimeSpan.FromSeconds(30));
        return (pa, pb, pipe);
    }

    internal static Impl Parse(string impl) => Enum.Parse<Impl>(impl, ignoreCase: true);
}
