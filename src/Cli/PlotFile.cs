// PlotFile: where the pictures of `--plot` / `--swimlane` go. Check says, before any work is
// done, why a path cannot be written (no file name, not .png, a folder that does not exist, a
// folder in the way), so a long replay does not end in a write error; Save renders to a temporary
// file beside the target and moves it over, so a picture is there whole or not at all (an
// interrupted run leaves no truncated PNG that looks like a result).
namespace GoAlloc.Cli;

/// <summary>A picture could not be written (the message says why; the command exits 2).</summary>
public sealed class PlotFileException(string message, Exception? inner = null) : Exception(message, inner);

public static class PlotFile
{
    /// <summary>Null when path can be written as a PNG, else why not.</summary>
    public static string? Check(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            return "the picture needs a file name (e.g. heap.png)";
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            return $"{path}: pictures are written as PNG; give the file a .png name";
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"{path}: not a usable path ({e.Message})";
        }
        if (Directory.Exists(full))
            return $"{path} is a folder; give a file name ending in .png";
        string? folder = Path.GetDirectoryName(full);
        if (folder != null && !Directory.Exists(folder))
            return $"{path}: the folder {folder} does not exist";
        return null;
    }

    /// <summary>Renders with render(temporaryPath), then moves the file to path; PlotFileException on an I/O error.</summary>
    public static void Save(string path, Action<string> render)
    {
        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp.png");
        try
        {
            render(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotFileException($"cannot write {path}: {e.Message}", e);
        }
        finally
        {
            if (File.Exists(tmp))
                File.Delete(tmp);
        }
    }
}
