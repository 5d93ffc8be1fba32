// `alloc record`: finds tools/record/record-trace.sh in the repository and passes its options
// through; the script rejects bad options (exit 2) before it installs or builds anything.
using GoAlloc.Cli;
using Xunit;

namespace GoAlloc.Tests;

public class CliRecordTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Record_TheScriptIsFoundFromTheBuildOutput()
    {
        string? script = RecordCommand.Locate();
        Assert.NotNull(script);
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(script)!, "go1.19-tracealloc-p-noscan.patch")));
    }

    [Fact]
    public void Record_ZeroProcs_IsAUsageError_BeforeAnythingIsInstalled()
    {
        (int exit, _, _) = Run("record", "--procs", "0", "-o", Path.Combine(Path.GetTempPath(), $"never-{Guid.NewGuid():N}.gz"));
        Assert.Equal(ExitCodes.Usage, exit);
    }

    [Fact]
    public void Record_NotANumber_IsAUsageError()
    {
        (int exit, _, string err) = Run("record", "--gogc", "lots");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("lots", err);
    }
}
