// OomProbeProcess: runs `alloc oom-probe` (src/Cli/Reliability) as a child process, optionally
// under util-linux's `prlimit --as=BYTES`, with the runtime settings that let .NET start and keep
// running under a small address-space limit (README, "Reliability"), and parses its key=value
// result lines. The settings: a 128 MiB GC heap in a 128 MiB region range (the GC otherwise
// reserves 256 GiB, or a share of the limit), 1% (hex 1) of the limit for the JIT's initial code
// reservation (else 20%, or 2 GiB near libcoreclr), no W^X double mapping (it maps a writable view
// for every code write: a fatal error once the limit is reached), one malloc arena and malloc's
// mmap threshold at 32 MiB (no 64 MiB arena per thread, no anonymous mmap per large malloc: only
// the runtime's reservations and the heap map anonymous memory), no concurrent GC and no tiered
// compilation (no background thread that compiles or maps while the probe watches).
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using GoAlloc.Cli;

namespace GoAlloc.Stress.Tests;

internal sealed record ProbeOutput(int ExitCode, string Stdout, string Stderr, string CommandLine)
{
    /// <summary>The key=value fields of every line starting with prefix.</summary>
    public List<Dictionary<string, string>> Lines(string prefix) =>
        Stdout.Split('\n').Where(l => l.StartsWith(prefix + " ", StringComparison.Ordinal)).Select(OomProbeProcess.Fields).ToList();

    public override string ToString() => $"$ {CommandLine}\nexit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

internal static partial class OomProbeProcess
{
    public const string Prlimit = "/usr/bin/prlimit";

    /// <summary>The environment the child runs with (see the header).</summary>
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>
    {
        ["DOTNET_GCHeapHardLimit"] = "0x8000000",
        ["DOTNET_GCRegionRange"] = "0x8000000",
        ["DOTNET_InitialExecMemoryPercent"] = "1",
        ["DOTNET_EnableWriteXorExecute"] = "0",
        ["DOTNET_gcConcurrent"] = "0",
        ["DOTNET_TieredCompilation"] = "0",
        ["MALLOC_ARENA_MAX"] = "1",
        ["MALLOC_MMAP_THRESHOLD_"] = "33554432",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    /// <summary>prlimit's path; fails with what to install when it is missing (./test.sh installs util-linux).</summary>
    public static string RequirePrlimit()
    {
        string? found = new[] { Prlimit, "/bin/prlimit" }.FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            "prlimit is not installed: apt-get install util-linux (./test.sh installs it); the out-of-memory tests need it");
    }

    /// <summary>Runs `[prlimit --as=asLimit --] dotnet alloc.dll oom-probe args...` and waits for it (a 10-minute hang bound).</summary>
    public static ProbeOutput Run(long? asLimit, params string[] args)
    {
        var command = new List<string>();
        if (asLimit is { } limit)
            command.AddRange([RequirePrlimit(), $"--as={limit}", "--"]);
        command.AddRange([ConcurrencyProcess.DotnetHost, Path.Combine(AppContext.BaseDirectory, "alloc.dll"), "oom-probe", .. args]);
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1))
            psi.ArgumentList.Add(a);
        foreach ((string k, string v) in Environment)
            psi.Environment[k] = v;
        using var p = new Process { StartInfo = psi };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stdout)
                    stdout.AppendLine(e.Data);
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (stderr)
                    stderr.AppendLine(e.Data);
            }
        };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{string.Join(' ', command)} did not finish in 10 minutes");
        }
        p.WaitForExit(); // drains the redirected streams
        lock (stdout)
            lock (stderr)
                return new ProbeOutput(p.ExitCode, stdout.ToString(), stderr.ToString(), string.Join(' ', command));
    }

    /// <summary>The key=value fields of one result line (a value in double quotes may hold spaces).</summary>
    public static Dictionary<string, string> Fields(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in FieldPattern().Matches(line))
            fields[m.Groups["k"].Value] = m.Groups["q"].Success ? m.Groups["q"].Value : m.Groups["v"].Value;
        return fields;
    }

    public static long Long(this Dictionary<string, string> fields, string key) =>
        long.Parse(fields[key], System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex("""(?<k>[a-z_0-9]+)=(?:"(?<q>[^"]*)"|(?<v>[^ ]*))""")]
    private static partial Regex FieldPattern();
}
