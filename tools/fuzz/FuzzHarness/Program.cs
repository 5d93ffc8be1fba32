// goalloc-fuzz <target> [input-file...]: with no file, the AFL++ persistent loop of SharpFuzz
// (tools/fuzz/run.sh starts it under afl-fuzz on the instrumented assemblies); with files, runs
// the target on each once (to reproduce a crash AFL++ saved). Targets: GoAlloc.Cli.FuzzTargets.
using GoAlloc.Cli;
using SharpFuzz;

// Nothing of the instrumented assemblies may run before Fuzzer.OutOfProcess.Run maps AFL's
// coverage memory (an instrumented call before it faults), hence the names here.
string[] targets = ["trace", "heap-ops"];
if (args.Length < 1 || !targets.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: goalloc-fuzz <{string.Join("|", targets)}> [input-file...]");
    return 2;
}
string target = args[0];
if (args.Length > 1)
{
    foreach (string file in args[1..])
    {
        FuzzTargets.Run(target, File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var ms = new MemoryStream();
    stream.CopyTo(ms);
    FuzzTargets.Run(target, ms.ToArray());
});
return 0;
