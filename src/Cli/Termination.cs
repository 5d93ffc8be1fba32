// Termination: what Ctrl-C (SIGINT) and SIGTERM do to `alloc`. Program.Main installs the handlers
// (tests that call Program.Run in-process do not). On a signal: every child process alloc started
// (the Coyote runner of explore / reproduce, the record script) is killed with its whole process tree,
// every temporary output file still registered is deleted (outputs are written to a temporary
// name and renamed into place only when complete: AtomicFile), and alloc exits 130 (SIGINT) or
// 143 (SIGTERM). While a child runs, the thread waiting for it sees it die and returns that code;
// otherwise (an in-process replay) the handler exits the process itself.
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GoAlloc.Cli;

public static class Termination
{
    private static readonly object s_gate = new();
    private static readonly List<Process> s_children = [];
    private static readonly HashSet<string> s_tempFiles = [];
    private static readonly List<PosixSignalRegistration> s_registrations = [];
    private static int? s_signal;

    /// <summary>The exit code of the signal that arrived (130 or 143), or null.</summary>
    public static int? Signal
    {
        get
        {
            lock (s_gate)
                return s_signal;
        }
    }

    /// <summary>Installs the SIGINT and SIGTERM handlers (once; Program.Main).</summary>
    public static void Install()
    {
        lock (s_gate)
        {
            if (s_registrations.Count > 0)
                return;
            s_registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle));
            s_registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle));
        }
    }

    private static void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // alloc exits by itself, after the cleanup
        int code = context.Signal == PosixSignal.SIGINT ? ExitCodes.Interrupted : ExitCodes.Terminated;
        bool waiting;
        lock (s_gate)
        {
            s_signal ??= code;
            waiting = s_children.Count > 0;
            foreach (Process p in s_children)
                KillTree(p);
            DeleteTempFiles();
        }
        if (!waiting)
        {
            Console.Error.WriteLine($"alloc: {(code == ExitCodes.Interrupted ? "interrupted" : "terminated")}; no output was written");
            Environment.Exit(code);
        }
    }

    /// <summary>Registers a started child: a signal kills its process tree. Dispose when it has exited.</summary>
    public static IDisposable Track(Process process)
    {
        lock (s_gate)
        {
            s_children.Add(process);
            if (s_signal != null)
                KillTree(process);
        }
        return new Registration(() =>
        {
            lock (s_gate)
                s_children.Remove(process);
        });
    }

    /// <summary>Registers a temporary file: deleted on a signal. Dispose once it is renamed or deleted.</summary>
    public static IDisposable TrackTemp(string path)
    {
        lock (s_gate)
            s_tempFiles.Add(path);
        return new Registration(() =>
        {
            lock (s_gate)
                s_tempFiles.Remove(path);
        });
    }

    private static void KillTree(Process p)
    {
        try
        {
            if (!p.HasExited)
                p.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exited meanwhile, or never started: nothing to kill.
        }
    }

    private static void DeleteTempFiles()
    {
        foreach (string path in s_tempFiles)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: the name is a temporary one that no later run mistakes for an output.
            }
        }
    }

    private sealed class Registration(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
