// RecordCommand: `alloc record [package-or-folder] [-o FILE] [--gogc N] [--procs N] [-- args]`
// records a Go allocation trace in GoAlloc's extended format by running the repository's
// tools/record/record-trace.sh (which installs golang-go if missing, patches a copy of Go 1.19's
// runtime with tools/record/go1.19-tracealloc-p-noscan.patch, builds the program and runs it with
// GODEBUG=allocfreetrace=1). The script does the work; this command finds it and passes the
// options through. Exit codes: the script's (0 written, 1 no trace lines, 2 bad options), or 2 when
// the script or bash cannot be found.
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
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("-o");
        psi.ArgumentList.Add(Path.GetFullPath(output));
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
        try
        {
            using Process p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            _error.WriteLine($"alloc record: cannot run bash: {ex.Message}");
            return ExitCodes.Usage;
        }
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
