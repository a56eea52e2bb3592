using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>Firebase Cloud Messaging (HTTP v1). FCM is on only when <see cref="CredentialsFile"/> is set.</summary>
public sealed class FcmOptions
{
    public const string Section = "Fcm";
    public const string DefaultEndpoint = "https://fcm.googleapis.com";

    /// <summary>Path of the Firebase service-account JSON key (the file the Firebase console downloads).</summary>
    public string? CredentialsFile { get; set; }

    /// <summary>Base URL of the FCM API; tests point it at a fake.</summary>
    public string Endpoint { get; set; } = DefaultEndpoint;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(CredentialsFile);

    internal Uri EndpointUri() => new(Endpoint.EndsWith('/') ? Endpoint : Endpoint + "/", UriKind.Absolute);
}

/// <summary>Reads the key file at start, so a bad one stops the service instead of failing every call later.</summary>
internal sealed class FcmOptionsValidator : IValidateOptions<FcmOptions>
{
    private const string CredentialsKey = $"{FcmOptions.Section}:{nameof(FcmOptions.CredentialsFile)}";
    private const string EndpointKey = $"{FcmOptions.Section}:{nameof(FcmOptions.Endpoint)}";

    public ValidateOptionsResult Validate(string? name, FcmOptions options)
    {
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Endpoint, UriKind.Absolute, out var endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttps && endpoint.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(endpoint.Query)
            || !string.IsNullOrEmpty(endpoint.Fragment))
        {
            failures.Add($"{EndpointKey} must be an absolute http(s) URL without query or fragment.");
        }

        if (options.IsEnabled && !FcmServiceAccount.TryLoad(options.CredentialsFile!, out _, out var problem))
        {
            failures.Add($"{CredentialsKey} '{options.CredentialsFile}' {problem}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
