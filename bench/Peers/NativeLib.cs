// NativeLib: loads a C allocator's entry points with NativeLibrary. mimalloc and tcmalloc export
// prefixed names (mi_*, tc_*) that do not replace the process's malloc; jemalloc's own malloc is
// taken from its handle (Debian builds it without a prefix, and it is not preloaded, so glibc stays
// the process allocator). Several static-TLS libraries in one process need
// GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 (bench/peers sets it).
using System.Runtime.InteropServices;

namespace GoAlloc.Peers;

public sealed record NativeLib(string Name, nint Malloc, nint Calloc, nint Free)
{
    public static NativeLib Load(string name) => name switch
    {
        "mimalloc" => From(name, "libmimalloc.so.2", "mi_malloc", "mi_calloc", "mi_free"),
        "jemalloc" => From(name, "libjemalloc.so.2", "malloc", "calloc", "free"),
        "tcmalloc" => From(name, "libtcmalloc_minimal.so.4", "tc_malloc", "tc_calloc", "tc_free"),
        "glibc" => From(name, "libc.so.6", "malloc", "calloc", "free"),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "mimalloc, jemalloc, tcmalloc or glibc"),
    };

    private static NativeLib From(string name, string file, string malloc, string calloc, string free)
    {
        nint h;
        try
        {
            h = NativeLibrary.Load(file);
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException(
                $"{file} did not load ({e.Message}); bench/peers installs it and sets GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384", e);
        }
        return new NativeLib(name, NativeLibrary.GetExport(h, malloc), NativeLibrary.GetExport(h, calloc), NativeLibrary.GetExport(h, free));
    }
}
