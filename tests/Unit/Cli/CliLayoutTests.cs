// Output for people (issue 18): when stdout is not a terminal the console is 100 columns wide and
// every table fits in it, number cells whole (never split across lines); help lists examples and
// the exit codes for every command, shows optional arguments as optional, and says that `alloc`
// alone replays the bundled sample.
using System.Text.RegularExpressions;
using GoAlloc.Cli;
using Xunit;

namespace GoAlloc.Tests;

public class CliLayoutTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr, _ => ExitCodes.Ok);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static IEnumerable<string> TableLines(string output) =>
        output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && "│╭╰├".Contains(l[0]));

    [Theory]
    [InlineData("both", false)]
    [InlineData("reference", true)]
    [InlineData("optimized", false)]
    public void Replay_Tables_FitHundredColumns_AndNoNumberIsSplit(string impl, bool scavenge)
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            string[] args = scavenge ? ["replay", path, "--impl", impl, "--scavenge"] : ["replay", path, "--impl", impl];
            (int exit, string output, string err) = Run(args);
            Assert.True(exit == ExitCodes.Ok, output + err);
            string[] lines = [.. TableLines(output)];
            Assert.NotEmpty(lines);
            Assert.All(lines, l => Assert.True(l.Length <= Program.RedirectedWidth, $"{l.Length} columns: {l}"));
            // A number split over two lines would leave a cell starting or ending in a digit group
            // fragment ("1,2" / "34,567"); every cell of the numeric cycle columns is a whole number.
            foreach (string line in lines.Where(l => Regex.IsMatch(l, @"^│\s+\d+ │")))
            {
                foreach (string cell in line.Split('│', StringSplitOptions.RemoveEmptyEntries).Select(c => c.Trim()).Where(c => c.Length > 0 && char.IsDigit(c[0])))
                    Assert.Matches(@"^\d{1,3}(,\d{3})*( ms)?$|^\d+B:\d+|^large:\d+", cell);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RootHelp_SaysBareAllocReplaysTheSample_ShowsTheTraceAsOptional_AndListsExamplesAndExitCodes()
    {
        (int exit, string output, _) = Run("--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("no command: replay the bundled sample", output);
        Assert.Contains("replay [trace-file]", output);
        Assert.Contains("record [package] [args...]", output);
        Assert.Contains("explore <scenario>", output);
        Assert.Contains("Examples:", output);
        Assert.Contains(ExitCodes.Help.Trim(), output.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("/?", output);
    }

    [Theory]
    [InlineData("replay", "alloc replay [<trace-file>] [options]")]
    [InlineData("record", "alloc record [<package> [<args>...]] [options]")]
    [InlineData("explore", "alloc explore <scenario> [options]")]
    [InlineData("reproduce", "alloc reproduce <trace> [options]")]
    public void CommandHelp_HasItsUsageExamplesAndTheExitCodes(string command, string usage)
    {
        (int exit, string output, _) = Run(command, "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        // (In-process the root command is named after the test host, not alloc.)
        Assert.Contains(usage[usage.IndexOf(' ')..], output);
        Assert.Contains("Examples:", output);
        Assert.Contains($"alloc {command}", output[output.IndexOf("Examples:", StringComparison.Ordinal)..]);
        Assert.Contains("Exit codes:", output);
        Assert.Contains("3    host failure", output);
    }
}
