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
                failures.Add($"{key}:AccountSid must be 'AC' followed by 32 hexadecimal digits.");
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
