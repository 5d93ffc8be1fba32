// AtomicFile: output files that are either complete or absent. The content goes to a temporary
// file next to the target (".<name>.<pid>.tmp", registered with Termination so a signal deletes
// it), is flushed, and is renamed over the target only when complete; on an error the temporary
// file is deleted and the target is left as it was. A later run can never mistake a half-written
// file for a good one.
namespace GoAlloc.Cli;

public static class AtomicFile
{
    /// <summary>The temporary name a write to path uses (same folder, so the rename is atomic).</summary>
    public static string TempPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
    }

    /// <summary>Writes path through write(stream): complete, or not at all.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temp = TempPathFor(path);
        using (Termination.TrackTemp(temp))
        {
            try
            {
                using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    write(stream);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, Path.GetFullPath(path), overwrite: true);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
        }
    }

    /// <summary>Runs produce(tempPath) (e.g. a child process writing the file); renames the result into place when it returns true and the file exists, else deletes it.</summary>
    public static bool Produce(string path, Func<string, bool> produce)
    {
        string temp = TempPathFor(path);
        using (Termination.TrackTemp(temp))
        {
            bool ok = false;
            try
            {
                ok = produce(temp) && File.Exists(temp);
                if (ok)
                    File.Move(temp, Path.GetFullPath(path), overwrite: true);
                return ok;
            }
            finally
            {
                if (!ok)
                    File.Delete(temp);
            }
        }
    }
}
