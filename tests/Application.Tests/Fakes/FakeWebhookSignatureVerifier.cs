using CallNotify.Application.Common.Ports;

namespace CallNotify.Application.Tests.Fakes;

/// <summary>Answers every signature check with <see cref="Verdict"/>; serves the accounts in <see cref="ConfiguredAccounts"/>.</summary>
public sealed class FakeWebhookSignatureVerifier : IWebhookSignatureVerifier
{
    public SignatureVerdict Verdict { get; set; } = SignatureVerdict.NotChecked;

    public ISet<string> ConfiguredAccounts { get; } = new HashSet<string>(StringComparer.Ordinal);

    public int Checks { get; private set; }

    public SignatureVerdict Verify(string url, string? signature, ReadOnlySpan<byte> body)
    {
        Checks++;
        return Verdict;
    }

    public bool IsConfigured(string accountSid) => ConfiguredAccounts.Contains(accountSid);

    public IReadOnlyList<string> Accounts => [.. ConfiguredAccounts];

    public SignedWebhook? SignAs(string accountSid, string url, ReadOnlySpan<byte> body) =>
        IsConfigured(accountSid) ? new SignedWebhook(url, "fake-signature") : null;
}
