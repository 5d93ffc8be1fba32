// ExitCodes: the exit status of every `alloc` command (README "Exit codes"; `alloc --help` lists
// them). 0 everything checked out; 1 a finding (a disagreement with the trace or between the
// implementations, a failed Verify, a Coyote bug found or not reproduced); 2 the command line or
// the input is wrong (unknown option, bad value, missing or damaged trace, sidecar that does not
// fit); 3 the host failed (out of memory, a child process that crashed or was killed, an internal
// error); 130 / 143 interrupted by Ctrl-C (SIGINT) / SIGTERM (children killed, no partial output).
namespace GoAlloc.Cli;

public static class ExitCodes
{
    /// <summary>Every check passed.</summary>
    public const int Ok = 0;
    /// <summary>A finding: a disagreement with the trace, a Verify failure, implementations that differ, a bug found.</summary>
    public const int Disagreement = 1;
    /// <summary>Bad command line or bad input: unknown option or value, missing or damaged trace, an implementation that is not built.</summary>
    public const int Usage = 2;
    /// <summary>The host failed: out of memory, a child process that crashed or was killed, an internal error.</summary>
    public const int HostFailure = 3;
    /// <summary>Stopped by Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (128 + SIGTERM).</summary>
    public const int Terminated = 143;

    /// <summary>The table `alloc --help` and every command's help print.</summary>
    public const string Help = """
        Exit codes:
          0    ok: every check passed
          1    a finding: a disagreement, a failed Verify, implementations that differ, a bug found
          2    usage or bad input: unknown option or value, missing/damaged trace or sidecar
          3    host failure: out of memory, a crashed or killed child process, an internal error
          130  interrupted (Ctrl-C); 143 terminated (SIGTERM): children killed, no partial output
        """;

    /// <summary>What a child process's exit code means for alloc: 0/1/2 pass through; anything else (a crash, a signal) is a host failure.</summary>
    public static int FromChild(int childExit) => childExit is Ok or Disagreement or Usage ? childExit : HostFailure;
}
