// CommandLineErrors: System.CommandLine's parse errors as `alloc` prints them: one line each,
// prefixed with the command ("alloc replay: ..."), the last one pointing at the command's help.
// An unknown option or command gets the nearest name ("did you mean"); the messages that name
// .NET types ("as expected type 'System.Int32'") lose them (CliValidation's parsers give most
// options their own messages first).
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace GoAlloc.Cli;

public static partial class CommandLineErrors
{
    /// <summary>"alloc" or "alloc replay": the command the parse reached.</summary>
    public static string CommandPath(ParseResult parse) =>
        parse.CommandResult.Command is RootCommand ? "alloc" : $"alloc {parse.CommandResult.Command.Name}";

    /// <summary>The lines to print for a parse that has errors.</summary>
    public static IReadOnlyList<string> Describe(ParseResult parse)
    {
        Command command = parse.CommandResult.Command;
        var messages = new List<string>();
        // An unknown option comes first; the words after it are most likely its value (or what the
        // mistyped option pushed out of place), so they are not reported on their own.
        foreach (string token in parse.UnmatchedTokens.Where(CliValidation.LooksLikeOption))
            messages.Add(CliValidation.UnknownOption(token, command));
        // (An argument's validator reports an option-looking token it was given the same way.)
        messages.AddRange(parse.Errors.Select(e => e.Message).Where(m => m.StartsWith(CliValidation.UnknownOptionPrefix, StringComparison.Ordinal)));
        bool unknownOption = messages.Count > 0;
        foreach (string token in parse.UnmatchedTokens.Where(t => !CliValidation.LooksLikeOption(t)))
        {
            if (command is RootCommand)
            {
                // The first word is the command; the words after it are its arguments.
                messages.Add($"unknown command '{token}'{Suggest.DidYouMean(token, command.Subcommands.Select(c => c.Name))}");
                break;
            }
            if (!unknownOption)
                messages.Add($"unexpected argument '{token}'");
        }
        foreach (ParseError e in parse.Errors)
        {
            if (e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal)
                || e.Message.StartsWith(CliValidation.UnknownOptionPrefix, StringComparison.Ordinal))
                continue; // described above, with a suggestion
            if (unknownOption && e.Message.StartsWith("Required argument missing", StringComparison.Ordinal))
                continue; // the mistyped option probably took the argument's place
            messages.Add(Clean(e.Message, command));
        }
        string who = CommandPath(parse);
        var lines = messages.Distinct().Select(m => $"{who}: {m}").ToList();
        if (lines.Count == 0)
            lines.Add($"{who}: invalid command line");
        lines[^1] += $"; see '{who} --help'";
        return lines;
    }

    /// <summary>A System.CommandLine message without .NET type names, trailing period or tabs.</summary>
    public static string Clean(string message, Command command)
    {
        if (message.StartsWith("Required argument missing", StringComparison.Ordinal))
        {
            var required = command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0).Select(a => $"<{a.Name}>");
            return $"missing argument {string.Join(' ', required)}".TrimEnd();
        }
        string s = TypeName().Replace(message, "");
        s = s.ReplaceLineEndings(" ").Replace('\t', ' ');
        s = Spaces().Replace(s, " ").Trim();
        return s.TrimEnd('.');
    }

    [GeneratedRegex(@"\s*as expected type '[\w.`\[\], ]+'")]
    private static partial Regex TypeName();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex Spaces();
}
