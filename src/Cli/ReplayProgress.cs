// ReplayProgress: a Spectre progress display (bar, percentage, remaining time) for the phases of a
// long replay: the lockstep (or single) replay by trace events, then the timed runs. Shown only
// when stdout is a terminal, no JSON goes to stdout, and the trace has at least MinEvents events
// (about two seconds of lockstep replay on the development machine; shorter replays finish before
// a bar would help). Disabled, it runs the work with no-op reporters, so the command's flow is the
// same either way. The bar is cleared when done, before the tables are printed.
using Spectre.Console;

namespace GoAlloc.Cli;

public sealed class ReplayProgress
{
    /// <summary>Traces with fewer events replay in under ~2 s: no progress bar.</summary>
    public const int MinEvents = 50_000;

    private readonly IAnsiConsole? _console;

    private ReplayProgress(IAnsiConsole? console) => _console = console;

    /// <summary>A progress display on console when it is a terminal and enabled; otherwise a silent one.</summary>
    public static ReplayProgress For(IAnsiConsole console, bool enabled, int events) =>
        new(enabled && events >= MinEvents && console.Profile.Out.IsTerminal ? console : null);

    public bool Shown => _console != null;

    /// <summary>Runs work with a phase factory: phase(name, total) returns a reporter of the amount done.</summary>
    public T Run<T>(Func<Func<string, double, Action<double>>, T> work)
    {
        if (_console == null)
            return work((_, _) => _ => { });
        return _console.Progress()
            .AutoClear(true)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => work((name, total) =>
            {
                ProgressTask task = ctx.AddTask(name, maxValue: Math.Max(1, total));
                return done => task.Value = Math.Min(done, task.MaxValue);
            }));
    }
}
