using System.CommandLine.Parsing;
using System.Globalization;

namespace PipelineSdk.Cli;

/// <summary>
/// The parser of options that take a count N. System.CommandLine's own conversion error could not reach a validator
/// without it throwing (and it names a .NET type); this one says which option got which word.
/// </summary>
internal static class WholeNumber
{
    public static int Parse(ArgumentResult result, int minimum)
    {
        var option = ((OptionResult)result.Parent!).Option.Name;
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            result.AddError($"{option} takes a whole number, not '{text}'.");
        else if (n < minimum)
            result.AddError($"{option} must be {minimum} or more.");
        return n;
    }
}
