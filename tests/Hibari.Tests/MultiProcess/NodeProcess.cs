using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Hibari.Tests.MultiProcess;

/// <summary>
/// A real Hibari.Server process for multi-process tests: started from the Release build (HIBARI_SERVER_DLL, else
/// found next to the test binaries' tree), addressed by its listen_address, killed with real signals.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromSeconds(2) })
    {
        Timeout = TimeSpan.FromSeconds(40),
    };

    private readonly List<string> _args;
    private readonly StringBuilder _log = new();
    private Process? _process;

    /// <param name="bare">Start with nothing but <c>--set listen_address=IP</c>: every other setting at its default.</param>
    public NodeProcess(string name, string ip, string dataDir, int apiPort, int signalingPort, IEnumerable<string> extraSettings, bool bare = false)
    {
        Name = name;
        Ip = ip;
        DataDir = dataDir;
        ApiPort = apiPort;
        SignalingPort = signalingPort;
        NodeName = $"{name}@{ip}";
        _args = bare ? ["--set", $"listen_address={ip}"] :
        [
            "--set", $"listen_address={ip}",
            "--set", $"api_port={apiPort}",
            "--set", $"signaling_port={signalingPort}",
            // Eight UDP ports per node (media worker k takes rtc_udp_port + k), distinct for every signaling port the tests use.
            "--set", $"rtc_udp_port={20000 + (signalingPort + 4000) * 8 % 20000}",
            // TURN on any free ports: a test may run several nodes on one address (D-57).
            "--set", "turn_udp_port=0",
            "--set", "turn_tcp_listen_port=0",
            "--set", $"data_dir={dataDir}",
            "--set", $"log_dir={Path.Combine(dataDir, "log")}",
            "--set", $"node_name={NodeName}",
            "--set", $"external_signaling_url=ws://{ip}:{signalingPort}/signaling",
            "--set", $"external_api_url=http://{ip}:{apiPort}/",
            .. extraSettings.SelectMany(s => new[] { "--set", s }),
        ];
    }

    public string Name { get; }
    public string Ip { get; }
    public string NodeName { get; }
    public string DataDir { get; }
    public int ApiPort { get; }
    public int SignalingPort { get; }
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;
    public bool Running => _process is { HasExited: false };
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string ServerDll()
    {
        if (Environment.GetEnvironmentVariable("HIBARI_SERVER_DLL") is { Length: > 0 } env && File.Exists(env)) return env;
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hibari.slnx"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("cannot find the repository root (Hibari.slnx) from " + AppContext.BaseDirectory);
        foreach (var cfg in new[] { "Release", "Debug" })
        {
            var p = Path.Combine(dir.FullName, "src", "Hibari.Server", "bin", cfg, "net10.0", "Hibari.Server.dll");
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException("Hibari.Server is not built: run dotnet build -c Release first");
    }

    public void Start()
    {
        if (Running) throw new InvalidOperationException(Name + " is already running");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(ServerDll());
        foreach (var a in _args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_TieredPGO"] = "0";
        psi.WorkingDirectory = Directory.CreateDirectory(DataDir).FullName; // a bare node's relative data_dir lands here
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine("ERR " + e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _process = p;
    }

    /// <summary>SIGKILL: the process dies at once, sockets are reset.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
        }
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open, like a network partition.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>SIGCONT.</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string sig)
    {
        if (Pid is not { } pid) throw new InvalidOperationException(Name + " is not running");
        using var k = Process.Start("kill", ["-" + sig, pid.ToString()]);
        k.WaitForExit();
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> ApiAsync(string target, string? json = null, CancellationToken ct = default)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"http://{Ip}:{ApiPort}/");
        req.Headers.TryAddWithoutValidation("x-sora-target", target);
        req.Content = new StringContent(json ?? "", Encoding.UTF8);
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var resp = await Http.SendAsync(req, ct);
        var text = await resp.Content.ReadAsStringAsync(ct);
        JsonNode? body = null;
        try { body = text.Length > 0 ? JsonNode.Parse(text) : null; } catch (System.Text.Json.JsonException) { }
        return ((int)resp.StatusCode, body, resp);
    }

    /// <summary>Waits until the API answers (the process is up), failing with the node's log if it exits.</summary>
    /// <summary>The node's `/metrics` text.</summary>
    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync($"http://{Ip}:{ApiPort}/metrics");
    }

    /// <summary>The node serves clients (`hibari_available 1`).</summary>
    public async Task<bool> IsAvailableAsync() => (await MetricsAsync()).Contains("hibari_available 1\n", StringComparison.Ordinal);

    /// <summary>The node is the Raft leader (`hibari_cluster_raft_leader 1`).</summary>
    public async Task<bool> IsRaftLeaderAsync() => (await MetricsAsync()).Contains("hibari_cluster_raft_leader 1\n", StringComparison.Ordinal);

    public async Task WaitForApiAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true } p)
            {
                p.WaitForExit(); // drains the redirected output, so the log says why
                throw new InvalidOperationException($"{Name} exited with {p.ExitCode}:\n{Log}");
            }
            try
            {
                var (status, _, _) = await ApiAsync("Sora_20171218.GetLicense");
                if (status == 200) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} API did not come up in {timeout}:\n{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            try { Thaw(); } catch { }
            Kill();
        }
        _process?.Dispose();
        await Task.CompletedTask;
    }
}
