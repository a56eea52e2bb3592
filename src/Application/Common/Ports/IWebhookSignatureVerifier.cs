namespace CallNotify.Application.Common.Ports;

/// <summary>Checks <c>X-Twilio-Signature</c> against the configured accounts' Auth Tokens.</summary>
public interface IWebhookSignatureVerifier
{
    SignatureVerdict Verify(string url, string? signature, ReadOnlySpan<byte> body);

    /// <summary>True when the account is one this service serves.</summary>
    bool IsConfigured(string accountSid);

    /// <summary>The accounts this service serves, as configured.</summary>
    IReadOnlyList<string> Accounts { get; }

    /// <summary>
    /// Signs a webhook as Twilio would for <paramref name="accountSid"/> (its primary Auth Token): the URL with the body's
    /// <c>bodySHA256</c>, and the signature over it. Null when the account is not configured. The one signing
    /// implementation, beside the check: the console's test calls use it.
    /// </summary>
    SignedWebhook? SignAs(string accountSid, string url, ReadOnlySpan<byte> body);
}

/// <summary>A webhook request as Twilio signs it: the URL it calls (with <c>bodySHA256</c>) and <c>X-Twilio-Signature</c>.</summary>
public sealed record SignedWebhook(string Url, string Signature);

/// <summary>
/// The outcome of a signature check. <see cref="SignedBy"/> is the account whose Auth Token produced the signature;
/// it is null when signature checks are turned off (Development only).
/// </summary>
public readonly record struct SignatureVerdict(bool IsValid, string? SignedBy)
{
    public static SignatureVerdict Invalid => new(false, null);

    public static SignatureVerdict NotChecked => new(true, null);

    public static SignatureVerdict SignedByAccount(string accountSid) => new(true, accountSid);
}
