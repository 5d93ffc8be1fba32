// RecordCommand: `alloc record [package-or-folder] [-o FILE] [--gogc N] [--procs N] [-- args]`
// records a Go allocation trace in GoAlloc's extended format by running the repository's
// tools/record/record-trace.sh (which installs golang-go if missing, patches a copy of Go 1.19's
// runtime with tools/record/go1.19-tracealloc-p-noscan.patch, builds the program and runs it with
// GODEBUG=allocfreetrace=1). The script does the work; this command finds it and passes the
// options through. The script writes to a temporary name next to -o, renamed into place only when
// it succeeds (AtomicFile.Produce), so an interrupted or failed run leaves no partial trace; the
// script runs as a child registered with Termination (Ctrl-C / SIGTERM kill its process tree).
// Exit codes: the script's (0 written, 1 no trace lines, 2 bad options), 2 when the script cannot
// be found, 3 (host failure) when bash cannot run or the script crashes or is killed.
using System.CommandLine;
using System.Diagnostics;

namespace GoAlloc.Cli;

public sealed class RecordCommand
{
    public const string ScriptPath = "tools/record/record-trace.sh";

    private readonly TextWriter _error;
    private readonly Argument<string?> _package = new("package")
    {
        Description = "Go package path inside GOROOT/src, or a folder with a main package (default: cmd/gofmt, run on go/ast and go/parser)",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Argument<string[]> _args = new("args")
    {
        Description = "The program's arguments (after --)",
        Arity = ArgumentArity.ZeroOrMore,
    };
    private readonly Option<string> _out = new("--out", "-o")
    {
        Description = "The gzipped trace to write",
        DefaultValueFactory = _ => "trace.gz",
    };
    private readonly Option<int> _gogc = new("--gogc") { Description = "GOGC of the run (low = many GC cycles)", DefaultValueFactory = _ => 5 };
    private readonly Option<int> _procs = new("--procs") { Description = "GOMAXPROCS of the run", DefaultValueFactory = _ => 2 };

    public RecordCommand(TextWriter error)
    {
        _error = error;
        CliValidation.WholeNumber(_gogc, 1, 100_000, fallback: 5);
        CliValidation.WholeNumber(_procs, 1, 256, fallback: 2);
        CliValidation.NotAnOption(_package, () => Command!);
        Command = new Command("record", $"Record a Go program's allocation trace with P and noscan (runs {ScriptPath}; installs golang-go if missing)")
        {
            _package, _args, _out, _gogc, _procs,
        };
        Command.SetAction(parse => Run(parse.GetValue(_package), parse.GetValue(_args) ?? [], parse.GetValue(_out) ?? "trace.gz",
            parse.GetValue(_gogc), parse.GetValue(_procs)));
    }

    public Command Command { get; }

    private int Run(string? package, string[] args, string output, int gogc, int procs)
    {
        string? script = Locate();
        if (script == null)
        {
            _error.WriteLine($"alloc record: {ScriptPath} not found (run from a clone of the repository)");
            return ExitCodes.Usage;
        }
        int rc = 0;
        try
        {
            AtomicFile.Produce(output, temp =>
            {
                rc = RunScript(script, temp, package, args, gogc, procs);
                return rc == 0;
            });
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            _error.WriteLine($"alloc record: host failure: cannot run bash: {ex.Message}");
            return ExitCodes.HostFailure;
        }
        if (Termination.Signal is { } signal)
            return signal;
        int code = ExitCodes.FromChild(rc);
        if (code == ExitCodes.HostFailure)
            _error.WriteLine($"alloc record: host failure: {ScriptPath} crashed or was killed (exit {rc}); no trace written");
        else if (code == ExitCodes.Ok)
            _error.WriteLine($"alloc record: wrote {Path.GetFullPath(output)}");
        return code;
    }

    private static int RunScript(string script, string output, string? package, string[] args, int gogc, int procs)
    {
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("-o");
        psi.ArgumentList.Add(output);
        psi.ArgumentList.Add("--gogc");
        psi.ArgumentList.Add(gogc.ToString(System.Globalization.CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--procs");
        psi.ArgumentList.Add(procs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (package != null)
            psi.ArgumentList.Add(Directory.Exists(package) ? Path.GetFullPath(package) : package);
        if (args.Length > 0)
        {
            psi.ArgumentList.Add("--");
            foreach (string a in args)
                psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        using (Termination.Track(p))
            p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>The script in the repository, found by walking up from the binary and the current directory.</summary>
    public static string? Locate()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, ScriptPath);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }
}
