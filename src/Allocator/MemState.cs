// MemState: Go's four states of a region of address space (runtime/mem.go). A region moves
//   None --sysReserve--> Reserved --sysMap--> Prepared --sysUsed--> Ready
//   Ready --sysUnused--> Prepared; Ready|Prepared --sysFault--> Reserved; any --sysFree--> None
// sysAlloc goes None -> Ready in one step. On Linux Prepared and Ready are both mapped read/write;
// they differ in whether the kernel holds (or may hold) physical pages for them.
namespace GoAlloc;

/// <summary>Go's four states of a region of address space (runtime/mem.go); SysMem moves regions between them.</summary>
public enum MemState
{
    /// <summary>Unreserved and unmapped: the address space is not ours.</summary>
    None,
    /// <summary>Owned by us (PROT_NONE mapping); any access faults; costs no memory.</summary>
    Reserved,
    /// <summary>Mapped read/write but not yet in use: contents are zero, pages not resident.</summary>
    Prepared,
    /// <summary>Mapped and in use: may be read and written; pages become resident when touched.</summary>
    Ready,
}
