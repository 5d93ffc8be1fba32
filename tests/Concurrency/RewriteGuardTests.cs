// Guard: Coyote only controls rewritten code. If the post-build rewrite silently did not happen,
// every scenario would explore one schedule and pass vacuously, so fail loudly instead.
using System.Reflection;
using Xunit;

namespace GoAlloc.Concurrency;

public class RewriteGuardTests
{
    [Theory]
    [InlineData("GoAlloc")]
    [InlineData("GoAlloc.Reference")]
    [InlineData("GoAlloc.Optimized")]
    [InlineData("GoAlloc.Concurrency")]
    [InlineData("GoAlloc.Concurrency.Tests")]
    public void AssemblyUnderTest_IsRewrittenForCoyote(string name)
    {
        Assembly asm = Assembly.Load(name);
        bool rewritten = asm.GetCustomAttributes().Any(a => a.GetType().FullName == "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute");
        Assert.True(rewritten, $"{name} is not rewritten by 'coyote rewrite': rebuild tests/Concurrency (src/Concurrency/Coyote.targets rewrites its output folder)");
    }
}
