using CallNotify.Application.Common.Options;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Configuration;

public sealed class TwilioOptions
{
    public const string Section = "Twilio";

    /// <summary>The Twilio accounts this service serves.</summary>
    public List<TwilioAccountOptions> Accounts { get; set; } = [];

    /// <summary>Check <c>X-Twilio-Signature</c>. Turning it off is allowed in Development only.</summary>
    public bool ValidateSignatures { get; set; } = true;

    /// <summary>The exact public URL configured at Twilio; when unset the URL is rebuilt from the request.</summary>
    public string? WebhookUrl { get; set; }
}

public sealed class TwilioAccountOptions
{
    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    /// <summary>Accepted as well as the primary token while a rotation is under way.</summary>
    public string? SecondaryAuthToken { get; set; }

    /// <summary>The API keys whose Access Tokens the client endpoints accept for this account (several, for rotation).</summary>
    public List<TwilioApiKeyOptions> ApiKeys { get; set; } = [];
}

/// <summary>One API key: its SID (<c>SK</c> + 32 hex) and its secret, the HS256 key of the Access Tokens it signs.</summary>
public sealed class TwilioApiKeyOptions
{
    public string? Sid { get; set; }

    public string? Secret { get; set; }

    /// <summary>An API key SID: <c>SK</c> and 32 hexadecimal digits.</summary>
    public static bool IsSid(string? value) =>
        value is { Length: 34 } && value.StartsWith("SK", StringComparison.Ordinal) && value.AsSpan(2).ContainsAnyExcept(HexDigits) is false;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
}

internal sealed class TwilioOptionsValidator(IHostEnvironment environment) : IValidateOptions<TwilioOptions>
{
    public ValidateOptionsResult Validate(string? name, TwilioOptions options)
    {
        var failures = new List<string>();
        var development = environment.IsDevelopment();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Accounts.Count; i++)
        {
            var account = options.Accounts[i];
            var key = $"{TwilioOptions.Section}:Accounts:{i}";
            if (!AccountSid.IsValid(account.AccountSid))
            {
                failures.Add($"{key}:AccountSid must be {AccountSid.Format}.");
            }
            else if (!seen.Add(account.AccountSid!))
            {
                failures.Add($"{key}:AccountSid {account.AccountSid} is configured twice.");
            }

            if (string.IsNullOrWhiteSpace(account.AuthToken))
            {
                failures.Add($"{key}:AuthToken is required.");
            }

            if (account.SecondaryAuthToken is { } secondary && string.IsNullOrWhiteSpace(secondary))
            {
                failures.Add($"{key}:SecondaryAuthToken is empty; remove it or give the token.");
            }

            var keySids = new HashSet<string>(StringComparer.Ordinal);
            for (var k = 0; k < account.ApiKeys.Count; k++)
            {
                var apiKey = account.ApiKeys[k];
                var apiKeyKey = $"{key}:ApiKeys:{k}";
                if (!TwilioApiKeyOptions.IsSid(apiKey.Sid))
                {
                    failures.Add($"{apiKeyKey}:Sid must be 'SK' followed by 32 hexadecimal digits.");
                }
                else if (!keySids.Add(apiKey.Sid!))
                {
                    failures.Add($"{apiKeyKey}:Sid {apiKey.Sid} is configured twice for this account.");
                }

                if (string.IsNullOrWhiteSpace(apiKey.Secret))
                {
                    failures.Add($"{apiKeyKey}:Secret is required.");
                }
                else if (!development && DevelopmentCredentials.IsDevelopmentSecret(apiKey.Secret))
                {
                    failures.Add($"{apiKeyKey}:Secret is a development credential, which is refused outside the Development environment.");
                }
            }

            if (!development)
            {
                if (account.AccountSid == DevelopmentCredentials.AccountSid)
                {
                    failures.Add($"{key}:AccountSid is the development demo account, which is refused outside the Development environment.");
                }

                if (DevelopmentCredentials.IsDevelopmentSecret(account.AuthToken) || DevelopmentCredentials.IsDevelopmentSecret(account.SecondaryAuthToken))
                {
                    failures.Add($"{key}:AuthToken is a development credential, which is refused outside the Development environment.");
                }
            }
        }

        if (!options.ValidateSignatures && !development)
        {
            failures.Add($"{TwilioOptions.Section}:ValidateSignatures=false is allowed only in the Development environment.");
        }

        if (options.WebhookUrl is { } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add($"{TwilioOptions.Section}:WebhookUrl must be an absolute http or https URL.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
