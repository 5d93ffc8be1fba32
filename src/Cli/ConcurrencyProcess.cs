// ConcurrencyProcess: how `alloc explore` / `alloc reproduce` run the Coyote runner (src/Concurrency's
// Program). Coyote controls only IL-rewritten assemblies, and seeded bugs exist only in the seeded
// build, so alloc's build ships two rewritten copies of the runner with its heaps beside alloc.dll:
// coyote/clean and coyote/seeded (src/Concurrency/Coyote.targets; in the repository's bin folder
// as in the installed .NET tool, so no repository and no build is needed at run time). alloc runs
// `dotnet <alloc dir>/coyote/<build>/GoAlloc.Concurrency.dll <args>` as a child process, while its
// own commands keep the unrewritten, unseeded heaps of its own folder at full speed, and relays the
// child's output and exit code (0, 1 and 2 as they are; any other code, a crash such as SIGABRT's
// 134, a kill, or the runner's 3 for an unrewritten copy, is a host failure: exit 3). No shell:
// every argument is passed as is. Every child is registered with Termination, so Ctrl-C / SIGTERM
// kill its process tree and alloc exits 130 / 143.
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
    /// <summary>The folder beside alloc.dll that holds the rewritten copies (Coyote.targets' Link).</summary>
    public const string CopiesFolder = "coyote";

    /// <summary>The runner of the clean or the seeded build: baseDirectory/coyote/clean|seeded/GoAlloc.Concurrency.dll.</summary>
    public static string ToolPath(string baseDirectory, bool seeded) =>
        Path.Combine(baseDirectory, CopiesFolder, seeded ? "seeded" : "clean", "GoAlloc.Concurrency.dll");

    /// <summary>
    /// Runs and relays (see the file header). Exit code: the tool's (ExitCodes.FromChild);
    /// HostFailure when the copy is missing or cannot start. baseDirectory: where the copies are
    /// (default: alloc's own folder).
    /// </summary>
    public static int Launch(ConcurrencyRun run, TextWriter output, TextWriter error, string? baseDirectory = null)
    {
        string command = run.Args.Count > 0 ? run.Args[0] : "concurrency";
        string tool = ToolPath(baseDirectory ?? AppContext.BaseDirectory, run.Seeded);
        if (!File.Exists(tool))
        {
            error.WriteLine($"alloc {command}: host failure: {tool} is missing: alloc's build makes the Coyote-rewritten " +
                $"{(run.Seeded ? "seeded" : "clean")} copy of the scenarios there (dotnet build src/Cli; not with `dotnet build -o`)");
            return ExitCodes.HostFailure;
        }
        int rc;
        try
        {
            rc = Execute(DotnetHost, [tool, .. run.Args], Directory.GetCurrentDirectory(), output, error, run.OnOutputLine);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            error.WriteLine($"alloc {command}: host failure: cannot run {DotnetHost}: {e.Message}");
            return ExitCodes.HostFailure;
        }
        if (Termination.Signal is { } stopped)
            return stopped;
        return Relay(command, rc, error);
    }

    /// <summary>The child's exit code as alloc's: 0, 1, 2 as they are; anything else is reported as a host failure (exit 3).</summary>
    public static int Relay(string command, int childExit, TextWriter error)
    {
        int code = ExitCodes.FromChild(childExit);
        if (childExit == ExitCodes.HostFailure)
            error.WriteLine($"alloc {command}: host failure: the concurrency tool refused to run (exit 3: its copy is not rewritten for Coyote)");
        else if (code == ExitCodes.HostFailure)
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
