using System.Security.Cryptography;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>APNs token-based authentication and endpoints (section <c>Apns</c>).</summary>
public sealed class ApnsOptions
{
    public const string Section = "Apns";
    public const int MinTokenLifetimeMinutes = 20;
    public const int MaxTokenLifetimeMinutes = 50;

    /// <summary>The 10-character Team ID of the Apple developer account (the JWT's <c>iss</c>).</summary>
    public string? TeamId { get; set; }

    /// <summary>The 10-character ID of the APNs auth key (the JWT's <c>kid</c>).</summary>
    public string? KeyId { get; set; }

    /// <summary>Path of the <c>.p8</c> auth key: a PEM PKCS#8 P-256 private key.</summary>
    public string? PrivateKeyFile { get; set; }

    /// <summary>The app's bundle id, the topic for bindings registered without an app id.</summary>
    public string? BundleId { get; set; }

    public string ProductionEndpoint { get; set; } = "https://api.push.apple.com";

    public string SandboxEndpoint { get; set; } = "https://api.sandbox.push.apple.com";

    /// <summary>
    /// How long one provider token (JWT) is reused. Apple refuses tokens older than an hour and tokens renewed more
    /// often than every 20 minutes, so this stays between 20 and 50 minutes.
    /// </summary>
    public int TokenLifetimeMinutes { get; set; } = 40;

    /// <summary>APNs is on only when the three token-auth keys are all set.</summary>
    public bool IsConfigured =>
        !string.IsNullOrWhiteSpace(TeamId) && !string.IsNullOrWhiteSpace(KeyId) && !string.IsNullOrWhiteSpace(PrivateKeyFile);

    /// <summary>What Apple allows in a bundle id, and so in an <c>apns-topic</c>: ASCII letters, digits, '-' and '.'.</summary>
    internal static bool IsBundleId(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-');

    internal Uri EndpointFor(ApnsEnvironment environment) =>
        new(environment == ApnsEnvironment.Sandbox ? SandboxEndpoint : ProductionEndpoint, UriKind.Absolute);
}

internal sealed class ApnsOptionsValidator : IValidateOptions<ApnsOptions>
{
    private const string S = ApnsOptions.Section;

    public ValidateOptionsResult Validate(string? name, ApnsOptions options)
    {
        var failures = new List<string>();
        ValidateCredentialKeys(options, failures);

        if (!string.IsNullOrWhiteSpace(options.PrivateKeyFile))
        {
            ValidateKeyFile(options.PrivateKeyFile, failures);
        }

        if (!string.IsNullOrWhiteSpace(options.BundleId) && !ApnsOptions.IsBundleId(options.BundleId))
        {
            failures.Add($"{S}:BundleId '{options.BundleId}' is not a bundle id (letters, digits, '-' and '.').");
        }

        ValidateEndpoint(nameof(ApnsOptions.ProductionEndpoint), options.ProductionEndpoint, failures);
        ValidateEndpoint(nameof(ApnsOptions.SandboxEndpoint), options.SandboxEndpoint, failures);

        if (options.TokenLifetimeMinutes is < ApnsOptions.MinTokenLifetimeMinutes or > ApnsOptions.MaxTokenLifetimeMinutes)
        {
            failures.Add(
                $"{S}:TokenLifetimeMinutes must be between {ApnsOptions.MinTokenLifetimeMinutes} and {ApnsOptions.MaxTokenLifetimeMinutes} " +
                "(Apple refuses tokens older than an hour and tokens renewed more often than every 20 minutes).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateCredentialKeys(ApnsOptions options, List<string> failures)
    {
        (string Key, string? Value)[] keys =
        [
            (nameof(ApnsOptions.TeamId), options.TeamId),
            (nameof(ApnsOptions.KeyId), options.KeyId),
            (nameof(ApnsOptions.PrivateKeyFile), options.PrivateKeyFile),
        ];

        // All three or none: a partial set is a mistake, not "APNs off".
        var set = keys.FirstOrDefault(k => !string.IsNullOrWhiteSpace(k.Value)).Key;
        if (set is null)
        {
            return;
        }

        foreach (var (key, value) in keys)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                failures.Add($"{S}:{key} is required when {S}:{set} is set.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.TeamId) && !IsAppleId(options.TeamId))
        {
            failures.Add($"{S}:TeamId must be the 10-letter-or-digit Team ID of the Apple developer account.");
        }

        if (!string.IsNullOrWhiteSpace(options.KeyId) && !IsAppleId(options.KeyId))
        {
            failures.Add($"{S}:KeyId must be the 10-letter-or-digit ID of the APNs auth key.");
        }
    }

    private static void ValidateKeyFile(string path, List<string> failures)
    {
        try
        {
            using var key = ApnsSigningKey.Load(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            failures.Add($"{S}:PrivateKeyFile '{path}' cannot be read: {ex.Message}");
        }
        catch (CryptographicException)
        {
            failures.Add($"{S}:PrivateKeyFile '{path}' is not a PKCS#8 P-256 key (the .p8 file of an APNs auth key).");
        }
    }

    private static void ValidateEndpoint(string key, string? value, List<string> failures)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            failures.Add($"{S}:{key} must be an absolute https URL.");
        }
    }

    private static bool IsAppleId(string value) => value.Length == 10 && value.All(char.IsAsciiLetterOrDigit);

}
