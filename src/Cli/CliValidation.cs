// CliValidation: the command-line checks every `alloc` command shares, with messages for people
// (System.CommandLine's own name .NET types: "as expected type 'System.Int32'"): whole-number
// options with a range, options and arguments limited to a list of names (with "did you mean"),
// and a positional argument that rejects a token that looks like an option (`replay --quite` must
// not become the trace path: it is an unknown option, and the nearest one is suggested).
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GoAlloc.Cli;

public static class CliValidation
{
    /// <summary>
    /// Parses the option's token as an integer in min..max (an error names the option and the
    /// token); no token: <paramref name="fallback"/>, which may be outside the range (0 = "auto").
    /// </summary>
    public static void WholeNumber(Option<int> option, int min, int max, int fallback)
    {
        option.CustomParser = r => ParseWhole(r, option.Name, min, max, v => (int)v, fallback);
        option.DefaultValueFactory = _ => fallback;
    }

    /// <summary>As WholeNumber, for an unsigned option.</summary>
    public static void WholeNumber(Option<uint> option, uint min, uint max, uint fallback)
    {
        option.CustomParser = r => ParseWhole(r, option.Name, min, max, v => (uint)v, fallback);
        option.DefaultValueFactory = _ => fallback;
    }

    private static T ParseWhole<T>(ArgumentResult r, string name, long min, long max, Func<long, T> convert, T fallback)
    {
        if (r.Tokens.Count == 0)
            return fallback;
        string token = r.Tokens[^1].Value;
        string range = max >= int.MaxValue ? $"a whole number of at least {min}" : $"a whole number from {min} to {max}";
        if (!long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
        {
            r.AddError($"{name} takes {range}, not '{token}'");
            return fallback;
        }
        if (v < min || v > max)
        {
            r.AddError($"{name} takes {range}, not {token}");
            return fallback;
        }
        return convert(v);
    }

    /// <summary>Limits an option to names; an unknown one is an error with the list and the nearest name.</summary>
    public static void Choices(Option option, IReadOnlyList<string> names)
    {
        if (option.HelpName == null && names.Count <= 4)
            option.HelpName = string.Join('|', names);
        option.Validators.Add(r => CheckChoices(r.Tokens, option.Name, names, r.AddError));
        option.CompletionSources.Add([.. names]);
    }

    /// <summary>Limits an argument to names (rejecting an option-looking token as an unknown option of <paramref name="command"/>).</summary>
    public static void Choices(Argument argument, IReadOnlyList<string> names, Func<Command> command)
    {
        argument.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && LooksLikeOption(r.Tokens[0].Value))
                r.AddError(UnknownOption(r.Tokens[0].Value, command()));
            else
                CheckChoices(r.Tokens, argument.Name, names, r.AddError);
        });
        argument.CompletionSources.Add([.. names]);
    }

    /// <summary>A free-text argument (a path) that must not start with '-' (except "-" alone: standard input).</summary>
    public static void NotAnOption(Argument argument, Func<Command> command)
    {
        argument.Validators.Add(r =>
        {
            foreach (Token t in r.Tokens)
            {
                if (LooksLikeOption(t.Value))
                {
                    r.AddError(UnknownOption(t.Value, command()));
                    return;
                }
            }
        });
    }

    public static bool LooksLikeOption(string token) => token.Length > 1 && token[0] == '-';

    /// <summary>How an unknown-option message starts (CommandLineErrors puts these first).</summary>
    public const string UnknownOptionPrefix = "unknown option '";

    /// <summary>"unknown option '--quite' (did you mean '--quiet'?)" for the command's options (and the global ones).</summary>
    public static string UnknownOption(string token, Command command)
    {
        string name = token.Split('=', ':')[0];
        return $"{UnknownOptionPrefix}{name}'{Suggest.DidYouMean(name, OptionNames(command))}";
    }

    /// <summary>Every name and alias of the command's options and of its parents' recursive ones.</summary>
    public static IEnumerable<string> OptionNames(Command command)
    {
        foreach (Option o in command.Options)
        {
            yield return o.Name;
            foreach (string a in o.Aliases)
                yield return a;
        }
        foreach (Symbol parent in command.Parents)
        {
            if (parent is Command p)
            {
                foreach (Option o in p.Options.Where(o => o.Recursive))
                {
                    yield return o.Name;
                    foreach (string a in o.Aliases)
                        yield return a;
                }
            }
        }
    }

    private static void CheckChoices(IReadOnlyList<Token> tokens, string name, IReadOnlyList<string> names, Action<string> addError)
    {
        foreach (Token t in tokens)
        {
            if (!names.Contains(t.Value))
            {
                addError($"{name} must be one of {string.Join(", ", names)}; not '{t.Value}'{Suggest.DidYouMean(t.Value, names)}");
                return;
            }
        }
    }
}
