using System.Diagnostics;
using Xunit.Abstractions;

namespace Hibari.Tests.Recording;

/// <summary>
/// ffmpeg and ffprobe for the recording tests (Debian's `ffmpeg`, installed by scripts/test.sh). Where they are missing
/// a test that needs them passes without checking and says so in its output — unless HIBARI_REQUIRE_FFMPEG=1, which
/// scripts/test.sh sets, and which makes it fail instead.
/// </summary>
internal static class FfmpegTools
{
    public static bool Required => Environment.GetEnvironmentVariable("HIBARI_REQUIRE_FFMPEG") == "1";

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? FindTool(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Whether ffmpeg and ffprobe are both installed (fails the test when they are not and they are required).</summary>
    public static bool Available(ITestOutputHelper? output = null)
    {
        if (FindTool("ffmpeg") is not null && FindTool("ffprobe") is not null) return true;
        const string reason = "ffmpeg/ffprobe not on PATH (Debian package ffmpeg): the check against them did not run";
        Assert.False(Required, reason + ", and HIBARI_REQUIRE_FFMPEG=1");
        output?.WriteLine("SKIPPED: " + reason);
        return false;
    }

    /// <summary>Runs a tool to completion (at most 2 minutes) and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(FindTool(tool) ?? tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
