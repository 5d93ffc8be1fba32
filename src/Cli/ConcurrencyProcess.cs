// ConcurrencyProcess: how `alloc explore` / `alloc reproduce` reach the Coyote suite. The suite
// lives in tests/Concurrency (it needs Coyote's IL rewriting and, for seeded bugs, the seeded
// build), so `alloc` does not link it: it finds the repository (the folder with Allocator.sln,
// above the current directory or the alloc binary), builds tests/Concurrency in Release (with
// -p:SeededBugs=true for the seeded build, into bin-seeded/), then runs
// `dotnet .../GoAlloc.Concurrency.dll <args>` and relays its output and exit code (0, 1 and 2
// as they are; any other code, a crash such as SIGABRT's 134 or a kill, is a host failure: exit
// 3). No shell: every argument is passed as is. Every child is registered with Termination, so
// Ctrl-C / SIGTERM kill its process tree and alloc exits 130 / 143.
using System.Diagnostics;

namespace GoAlloc.Cli;

/// <summary>One run of the concurrency tool: which build, and its arguments (explore ... / reproduce ...).</summary>
public sealed record ConcurrencyRun(bool Seeded, IReadOnlyList<string> Args)
{
    /// <summary>Also called with each line the tool prints on stdout (--swimlane reads the steps from them).</summary>
    public Action<string>? OnOutputLine { get; init; }
}

public static class ConcurrencyProcess
{
    public const string ProjectDir = "tests/Concurrency";

    /// <summary>The folder holding Allocator.sln: above the current directory, else above the alloc binary; null if neither.</summary>
    public static string? FindRepoRoot(string? currentDirectory = null, string? baseDirectory = null)
    {
        foreach (string start in new[] { currentDirectory ?? Directory.GetCurrentDirectory(), baseDirectory ?? AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d != null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Allocator.sln")))
                    return d.FullName;
            }
        }
        return null;
    }

    /// <summary>`dotnet build` arguments for the clean or the seeded build (run in the repository root).</summary>
    public static IReadOnlyList<string> BuildArguments(bool seeded) =>
        seeded ? ["build", ProjectDir, "-c", "Release", "-p:SeededBugs=true", "-v", "q"] : ["build", ProjectDir, "-c", "Release", "-v", "q"];

    /// <summary>The built tool: tests/Concurrency/bin[-seeded]/Release/net10.0/GoAlloc.Concurrency.dll.</summary>
    public static string ToolPath(string repoRoot, bool seeded) =>
        Path.Combine(repoRoot, "tests", "Concurrency", seeded ? "bin-seeded" : "bin", "Release", "net10.0", "GoAlloc.Concurrency.dll");

    /// <summary>Builds, runs and relays (see the file header). Exit code: the tool's (ExitCodes.FromChild), Usage when the repository is not found, HostFailure when the build fails.</summary>
    public static int Launch(ConcurrencyRun run, TextWriter output, TextWriter error)
    {
        string command = run.Args.Count > 0 ? run.Args[0] : "concurrency";
        string? root = FindRepoRoot();
        if (root == null)
        {
            error.WriteLine($"alloc {command}: cannot find the repository (a folder with Allocator.sln) above the current directory or the alloc binary; " +
                $"{command} builds and runs {ProjectDir} from source");
            return ExitCodes.Usage;
        }
        IReadOnlyList<string> build = BuildArguments(run.Seeded);
        error.WriteLine($"alloc {command}: dotnet {string.Join(' ', build)}");
        var buildOutput = new StringWriter();
        int rc;
        try
        {
            rc = Execute(DotnetHost, build, root, buildOutput, buildOutput);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            error.WriteLine($"alloc {command}: host failure: cannot run {DotnetHost}: {e.Message}");
            return ExitCodes.HostFailure;
        }
        if (Termination.Signal is { } signal)
            return signal;
        if (rc != 0)
        {
            error.Write(buildOutput.ToString());
            error.WriteLine($"alloc {command}: host failure: building {ProjectDir} failed (exit {rc})");
            return ExitCodes.HostFailure;
        }
        string tool = ToolPath(root, run.Seeded);
        if (!File.Exists(tool))
        {
            error.WriteLine($"alloc {command}: the build did not produce {tool}");
            return ExitCodes.Usage;
        }
        rc = Execute(DotnetHost, [tool, .. run.Args], Directory.GetCurrentDirectory(), output, error, run.OnOutputLine);
        if (Termination.Signal is { } stopped)
            return stopped;
        return Relay(command, rc, error);
    }

    /// <summary>The child's exit code as alloc's: 0, 1, 2 as they are; anything else is reported as a host failure (exit 3).</summary>
    public static int Relay(string command, int childExit, TextWriter error)
    {
        int code = ExitCodes.FromChild(childExit);
        if (code == ExitCodes.HostFailure)
            error.WriteLine($"alloc {command}: host failure: the concurrency tool crashed or was killed (exit {childExit}{SignalName(childExit)})");
        return code;
    }

    private static string SignalName(int exit) => exit switch
    {
        134 => ": SIGABRT, e.g. an unhandled exception or out of memory",
        137 => ": SIGKILL, e.g. the kernel's out-of-memory killer",
        139 => ": SIGSEGV",
        143 => ": SIGTERM",
        _ => "",
    };

    /// <summary>The dotnet host running this process (or the one on PATH).</summary>
    public static string DotnetHost
    {
        get
        {
            string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
                return host;
            string? self = Environment.ProcessPath;
            return self != null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        }
    }

    /// <summary>Runs file with args (no shell), relaying stdout and stderr line by line; returns its exit code.</summary>
    private static int Execute(string file, IEnumerable<string> args, string workingDirectory, TextWriter output, TextWriter error,
        Action<string>? onOutputLine = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["COYOTE_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = new Process { StartInfo = psi };
        object gate = new();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (gate)
                {
                    output.WriteLine(e.Data);
                    onOutputLine?.Invoke(e.Data);
                }
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                lock (gate)
                    error.WriteLine(e.Data);
            }
        };
        p.Start();
        using (Termination.Track(p))
        {
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            p.WaitForExit(); // also waits for the redirected streams to drain
        }
        return p.ExitCode;
    }
}
