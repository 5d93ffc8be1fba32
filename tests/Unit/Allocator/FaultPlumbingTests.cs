// The fault plumbing of spec/SPEC.md 4.15 on its own, below the heaps: SysMem's failure injection
// (every mapping call counts, the k-th fails with the call's name), HookFaults (the first hook
// exception of an operation wins and is rethrown once), DisposeGuard (open until closed, closing
// twice says so, an operation cannot enter a closed guard) and MemClr (chunked zeroing).
using System.Runtime.InteropServices;
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class FaultPlumbingTests
{
    [Fact]
    public void SysMem_InjectedFailure_HitsTheKthMappingCall_NamingIt()
    {
        nint n = 64 << 10;
        nint v = SysMem.SysReserve(0, n);
        try
        {
            SysMem.SysMap(v, n);
            // The 2nd call from now (SysUnused) fails; the 1st (SysMap again) goes through.
            SysMem.InjectFailureAtCall(2);
            SysMem.SysMap(v, n);
            Assert.Equal(1, SysMem.InjectionCountdown);
            var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysUnused(v, n));
            Assert.StartsWith("sysUnused(", e.Message);
            Assert.Equal(0, SysMem.InjectionCountdown);
            // Fired once: later calls go through.
            SysMem.SysUnused(v, n);
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysMem_InjectedFailure_NamesEachMappingCall()
    {
        try
        {
            SysMem.InjectFailureAtCall(1);
            Assert.StartsWith("sysReserve(", Assert.Throws<OutOfMemoryException>(() => SysMem.SysReserve(0, 64 << 10)).Message);
            SysMem.InjectFailureAtCall(1);
            Assert.StartsWith("sysAlloc(", Assert.Throws<OutOfMemoryException>(() => SysMem.SysAlloc(64 << 10)).Message);
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
    }

    [Fact]
    public void HookFaults_FirstDeferredExceptionWins_AndIsRethrownOnce()
    {
        var first = new InvalidTimeZoneException("first");
        HookFaults.Defer(first);
        HookFaults.Defer(new FormatException("second"));
        Assert.True(HookFaults.HasPending);
        Assert.Same(first, Assert.Throws<InvalidTimeZoneException>(HookFaults.ThrowPending));
        Assert.False(HookFaults.HasPending);
        HookFaults.ThrowPending(); // nothing pending: no throw
    }

    [Fact]
    public void DisposeGuard_OpenUntilClosed_ThenRefusesEntry()
    {
        var guard = new DisposeGuard();
        Assert.False(guard.IsClosed);
        using (guard.Enter("heap"))
            Assert.False(guard.IsClosed);
        Assert.True(guard.Close());
        Assert.True(guard.IsClosed);
        Assert.False(guard.Close());
        Assert.Throws<ObjectDisposedException>(() => { using var s = guard.Enter("heap"); });
        guard.WaitUntilEmpty(); // the refused entry left nothing inside
    }

    [Fact]
    public unsafe void MemClr_ZeroesExactlyTheRange()
    {
        const int n = 3 * 4096;
        nint p = (nint)NativeMemory.Alloc(n);
        try
        {
            new Span<byte>((void*)p, n).Fill(0xAB);
            MemClr.Clear(p + 100, n - 200);
            var bytes = new Span<byte>((void*)p, n);
            Assert.Equal(0xAB, bytes[99]);
            Assert.True(bytes[100..(n - 100)].IndexOfAnyExcept((byte)0) < 0);
            Assert.Equal(0xAB, bytes[n - 100]);
            MemClr.Clear(p, 0); // nothing
            Assert.Equal(0xAB, bytes[0]);
        }
        finally
        {
            NativeMemory.Free((void*)p);
        }
    }
}
