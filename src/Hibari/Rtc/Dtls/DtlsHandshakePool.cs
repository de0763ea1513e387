namespace Hibari.Rtc.Dtls;

/// <summary>
/// A fixed number of threads that run DTLS handshakes. BouncyCastle's <c>DtlsServerProtocol.Accept</c> and
/// <c>DtlsClientProtocol.Connect</c> block until the handshake ends, so each running handshake holds one of these
/// threads; handshakes beyond <see cref="ThreadCount"/> wait in a queue (their <see cref="DtlsOptions.HandshakeTimeout"/>
/// counts from <see cref="DtlsEndpoint.Start"/>, so the wait is part of it). After the handshake no thread belongs to a
/// connection (docs/dtls.md). Threads are started on demand, up to <see cref="ThreadCount"/> alive at once, and end
/// after <see cref="IdleTimeout"/> without work (or at <see cref="Dispose"/>): a node that is not taking connects keeps
/// none of them.
/// </summary>
/// <remarks>
/// Do not run both ends of one handshake on one pool that can fill up with clients: a client holds its thread while it
/// waits for the server, so a pool full of clients starves their servers until the timeout. The defaults keep them
/// apart (<see cref="Default"/> for servers, <see cref="DefaultClient"/> for clients); so do tests that make their own.
/// </remarks>
public sealed class DtlsHandshakePool : IDisposable
{
    private static readonly Lock s_defaultGate = new();
    private static DtlsHandshakePool? s_default;
    private static DtlsHandshakePool? s_defaultClient;
    private static int s_defaultThreadCount = 8;

    private readonly object _gate = new(); // Monitor.Wait/Pulse: workers sleep on it
    private readonly Queue<Action> _jobs = new();
    private readonly string _name;
    private int _threads; // alive
    private int _threadsStarted; // ever
    private int _idle; // waiting in Work (counted until they hold the lock again)
    private int _running;
    private int _peakRunning, _peakQueued;
    private long _completed;
    private bool _disposed;

    /// <param name="threadCount">How many handshakes run at once (1–1024).</param>
    /// <param name="name">Prefix of the threads' names ("DTLS handshake 3").</param>
    /// <param name="idleTimeout">How long a thread waits for work before it ends (default 10 s).</param>
    public DtlsHandshakePool(int threadCount, string name = "DTLS handshake", TimeSpan? idleTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threadCount, 1024);
        ThreadCount = threadCount;
        _name = name;
        IdleTimeout = idleTimeout ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
    }

    /// <summary>How long a thread waits for a job before it ends.</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>
    /// The pool server endpoints (the SFU's) use when their <see cref="DtlsOptions.HandshakePool"/> is null; created on
    /// first use with <see cref="DefaultThreadCount"/> threads and never disposed.
    /// </summary>
    public static DtlsHandshakePool Default
    {
        get
        {
            lock (s_defaultGate) return s_default ??= new DtlsHandshakePool(s_defaultThreadCount);
        }
    }

    /// <summary>
    /// The pool client endpoints (load tool, tests) use when their <see cref="DtlsOptions.HandshakePool"/> is null, so
    /// that clients and servers in one process never wait for each other's threads (see the remarks of the class).
    /// Created on first use (a process that only serves never starts it), with <see cref="DefaultThreadCount"/> threads.
    /// </summary>
    public static DtlsHandshakePool DefaultClient
    {
        get
        {
            lock (s_defaultGate) return s_defaultClient ??= new DtlsHandshakePool(s_defaultThreadCount, "DTLS client handshake");
        }
    }

    /// <summary>
    /// Threads of <see cref="Default"/> and <see cref="DefaultClient"/> (8 unless set); settable only before either is
    /// first used.
    /// </summary>
    public static int DefaultThreadCount
    {
        get
        {
            lock (s_defaultGate) return s_defaultThreadCount;
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1024);
            lock (s_defaultGate)
            {
                if ((s_default is not null || s_defaultClient is not null) && value != s_defaultThreadCount)
                    throw new InvalidOperationException("the default DTLS handshake pool already runs; set its size before the first handshake");
                s_defaultThreadCount = value;
            }
        }
    }

    /// <summary>The most handshakes that run at once, and the most threads alive at once.</summary>
    public int ThreadCount { get; }

    /// <summary>Threads started so far (idle ones end, and later work starts new ones).</summary>
    public int ThreadsStarted
    {
        get { lock (_gate) return _threadsStarted; }
    }

    /// <summary>Threads alive now (never more than <see cref="ThreadCount"/>).</summary>
    public int ThreadsAlive
    {
        get { lock (_gate) return _threads; }
    }

    /// <summary>Handshakes waiting for a thread.</summary>
    public int Queued
    {
        get { lock (_gate) return _jobs.Count; }
    }

    /// <summary>The most handshakes that waited for a thread at once since the pool was created.</summary>
    public int PeakQueued
    {
        get { lock (_gate) return _peakQueued; }
    }

    /// <summary>Handshakes running now.</summary>
    public int Running
    {
        get { lock (_gate) return _running; }
    }

    /// <summary>The most handshakes that ran at once since the pool was created.</summary>
    public int PeakRunning
    {
        get { lock (_gate) return _peakRunning; }
    }

    /// <summary>Jobs that have ended (well or not).</summary>
    public long Completed
    {
        get { lock (_gate) return _completed; }
    }

    /// <summary>Queues one job; false when the pool is disposed. The job must not throw (exceptions are swallowed).</summary>
    internal bool TryQueue(Action job)
    {
        lock (_gate)
        {
            if (_disposed) return false;
            _jobs.Enqueue(job);
            if (_jobs.Count > _peakQueued) _peakQueued = _jobs.Count;
            if (_idle > 0) Monitor.Pulse(_gate);
            // More jobs waiting than idle threads to take them (a pulsed thread counts as idle until it holds the lock
            // again, so a burst is not left to one waker): one more thread, up to the limit.
            if (_jobs.Count > _idle && _threads < ThreadCount)
            {
                _threads++;
                _threadsStarted++;
                // Not the .NET thread pool: a handshake blocks for up to its timeout, which starves the thread pool.
                new Thread(Work, maxStackSize: 512 * 1024) { IsBackground = true, Name = $"{_name} {_threadsStarted}" }.Start();
            }
            return true;
        }
    }

    private void Work()
    {
        while (true)
        {
            Action job;
            lock (_gate)
            {
                while (_jobs.Count == 0)
                {
                    if (_disposed)
                    {
                        _threads--;
                        return;
                    }
                    _idle++;
                    var pulsed = Monitor.Wait(_gate, IdleTimeout);
                    _idle--;
                    // Idle for the whole timeout and still nothing to do: end. A job queued while this thread timed out
                    // is seen here (the loop re-checks), so none is left without a thread.
                    if (!pulsed && _jobs.Count == 0 && !_disposed)
                    {
                        _threads--;
                        return;
                    }
                }
                job = _jobs.Dequeue();
                _running++;
                if (_running > _peakRunning) _peakRunning = _running;
            }
            try
            {
                job();
            }
            catch (Exception)
            {
                // Endpoints catch their own; a pool thread must survive anything.
            }
            finally
            {
                lock (_gate)
                {
                    _running--;
                    _completed++;
                }
            }
        }
    }

    /// <summary>
    /// Refuses new jobs; the threads finish what is queued and end. Endpoints whose job is refused fail their handshake.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
