// Ctrl-C (SIGINT) and SIGTERM stop `alloc` cleanly (issue 18): they kill the child process tree
// and leave no partial output. These run the built alloc.dll with `dotnet` as a separate process
// (a signal cannot be sent to an in-process Program.Run) and signal it with kill(1):
//   record: a stand-in tools/record/record-trace.sh (found from the working directory) writes
//   part of its output, starts a long-running grandchild and says "ready"; after the signal alloc
//   exits 130 / 143, the grandchild is gone, and neither the trace nor its temporary file remains.
//   replay --json-file: signalled while replaying (no child), alloc exits 143 and writes no JSON.
//   explore: signalled while its Coyote runner runs (a stand-in host, DOTNET_HOST_PATH, that alloc
//   starts on the runner's copy beside alloc.dll), alloc exits 143 / 130 and the runner's process
//   tree is gone.
// The tests wait for alloc's own output (no sleeps); the process waits are bounds, not timings.
using System.Diagnostics;
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliSignalTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private static string Dotnet => ConcurrencyProcess.DotnetHost;

    private static Process StartAlloc(string workingDirectory, params string[] args) =>
        StartAlloc(workingDirectory, new Dictionary<string, string>(), args);

    private static Process StartAlloc(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        // Through env(1) --default-signal: a test host started by a non-interactive shell in the
        // background (CI, nohup) inherits SIGINT ignored, and so would alloc; env resets it to the
        // default before it execs dotnet (same pid), so the signal reaches alloc's handler.
        var psi = new ProcessStartInfo("env")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add(Dotnet);
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "alloc.dll"));
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach ((string name, string value) in environment)
            psi.Environment[name] = value;
        return Process.Start(psi)!;
    }

    private static void Signal(int pid, string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", $"{pid}" }, UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Reads lines from reader until one starts with prefix; returns it (null at the end of the stream).</summary>
    private static string? WaitForLine(StreamReader reader, string prefix)
    {
        for (string? line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return line;
        }
        return null;
    }

    /// <summary>Whether pid is gone (or a zombie nobody reaped: it runs no more).</summary>
    private static bool Stopped(int pid)
    {
        try
        {
            using Process p = Process.GetProcessById(pid);
            if (p.WaitForExit(TimeSpan.FromSeconds(30)))
                return true;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        string stat = $"/proc/{pid}/stat";
        return !File.Exists(stat) || File.ReadAllText(stat).Split(") ")[1].StartsWith('Z');
    }

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated)]
    [InlineData("INT", ExitCodes.Interrupted)]
    public void Record_Signal_KillsTheChildTree_AndLeavesNoPartialTrace(string signal, int expectedExit)
    {
        string dir = Directory.CreateTempSubdirectory("alloc-signal-").FullName;
        string scriptDir = Path.Combine(dir, "tools", "record");
        Directory.CreateDirectory(scriptDir);
        // -o OUT is the first option RecordCommand passes; the script writes half a trace there,
        // starts a grandchild that would run for 10 minutes, and reports its pid.
        File.WriteAllText(Path.Combine(scriptDir, "record-trace.sh"), """
            #!/usr/bin/env bash
            printf 'tracealloc(0xc000000000, 0x10)\ntrace' > "$2"
            sleep 600 &
            echo "ready $!" >&2
            wait
            """.Replace("\r", ""));
        try
        {
            using Process alloc = StartAlloc(dir, "record", "-o", "out.trace.gz");
            string? ready = WaitForLine(alloc.StandardError, "ready ");
            Assert.NotNull(ready);
            int grandchild = int.Parse(ready!["ready ".Length..]);

            Signal(alloc.Id, signal);
            string rest = alloc.StandardError.ReadToEnd();
            Assert.True(alloc.WaitForExit(Bound), "alloc did not exit after the signal");
            Assert.True(alloc.ExitCode == expectedExit, $"exit {alloc.ExitCode}: {rest}");
            Assert.True(Stopped(grandchild), $"the record script's child {grandchild} still runs");
            Assert.False(File.Exists(Path.Combine(dir, "out.trace.gz")));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Replay_SigtermWhileReplaying_ExitsAsTerminated_AndWritesNoJson()
    {
        string? sample = SampleTrace.Locate();
        Assert.NotNull(sample);
        string dir = Directory.CreateTempSubdirectory("alloc-signal-").FullName;
        try
        {
            using Process alloc = StartAlloc(dir, "replay", sample!, "--json-file", "result.json");
            // The first line is printed once the trace is read, before the replay starts (seconds).
            Assert.NotNull(WaitForLine(alloc.StandardOutput, "trace "));
            Signal(alloc.Id, "TERM");
            alloc.StandardOutput.ReadToEnd();
            string err = alloc.StandardError.ReadToEnd();
            Assert.True(alloc.WaitForExit(Bound), "alloc did not exit after SIGTERM");
            Assert.True(alloc.ExitCode == ExitCodes.Terminated, $"exit {alloc.ExitCode}: {err}");
            Assert.Contains("alloc: terminated; no output was written", err);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated)]
    [InlineData("INT", ExitCodes.Interrupted)]
    public async Task Explore_Signal_WhileTheRunnerRuns_KillsTheChildTree(string signal, int expectedExit)
    {
        // A stand-in dotnet host (DOTNET_HOST_PATH, which alloc runs the Coyote runner with): it
        // starts a grandchild that would run for 10 minutes and names it through a FIFO, which the
        // test's read waits for.
        string dir = Directory.CreateTempSubdirectory("alloc-signal-").FullName;
        string host = Path.Combine(dir, "fake-dotnet.sh");
        File.WriteAllText(host, """
            #!/usr/bin/env bash
            sleep 600 &
            echo "ready $!" > "$ALLOC_TEST_READY"
            wait
            """.Replace("\r", ""));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(host, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string fifo = Path.Combine(dir, "ready");
        using (Process mkfifo = Process.Start(new ProcessStartInfo("mkfifo") { ArgumentList = { fifo }, UseShellExecute = false })!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        try
        {
            using Process alloc = StartAlloc(dir, new Dictionary<string, string> { ["DOTNET_HOST_PATH"] = host, ["ALLOC_TEST_READY"] = fifo },
                "explore", "cycle-boundary", "--iterations", "1");
            // Bounded: if alloc ends (or stalls) before it runs the stand-in, nobody writes the
            // FIFO; the test then opens it for writing itself so the read returns, and fails.
            Task<string> read = Task.Run(() => File.ReadAllText(fifo));
            Task exited = alloc.WaitForExitAsync();
            Task first = await Task.WhenAny(read, exited, Task.Delay(Bound));
            if (first != read)
            {
                string early = alloc.HasExited ? alloc.StandardError.ReadToEnd() : "(still running)";
                if (!alloc.HasExited)
                    alloc.Kill(entireProcessTree: true);
                using (new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }
                Assert.Fail($"alloc never ran the stand-in host; exit {(alloc.HasExited ? alloc.ExitCode : -1)}: {early}");
            }
            string ready = (await read).Trim();
            Assert.StartsWith("ready ", ready);
            int grandchild = int.Parse(ready["ready ".Length..]);

            Signal(alloc.Id, signal);
            alloc.StandardOutput.ReadToEnd();
            string err = alloc.StandardError.ReadToEnd();
            Assert.True(alloc.WaitForExit(Bound), "alloc did not exit after the signal");
            Assert.True(alloc.ExitCode == expectedExit, $"exit {alloc.ExitCode}: {err}");
            Assert.True(Stopped(grandchild), $"the runner's child {grandchild} still runs");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
