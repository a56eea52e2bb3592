using System.Diagnostics;
using CallNotify.Api.Endpoints;
using CallNotify.Api.Http;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Application.Common.Ports;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Hosting;

/// <summary>
/// Before the server takes its first request, runs the webhook's command once, signed with the first configured
/// account's token, for a callee nobody is: the signature check, the body's parsing, the callee lookup and the record
/// lookup of the 404 path, which sends nothing and records no notification (it remembers its own message id's 404,
/// ADR 0025: one row a start, forgotten after <c>Retention:MessageIdDays</c>). The first real call then finds that code compiled
/// and the store's statements prepared, instead of paying about half a second for it while a phone rings
/// (docs/decisions/0015). A warm-up that fails or overruns its budget is logged and the service starts anyway.
/// </summary>
/// <remarks>
/// Hosted services start before Kestrel listens, so <c>/readyz</c> answers only after this has run. It goes through
/// the mediator, not HTTP, so it is not counted in the webhook metrics.
/// </remarks>
public sealed class WebhookWarmUp(
    IServiceScopeFactory scopes,
    IWebhookSignatureVerifier signatures,
    IOptions<WebhookUrlOptions> webhook,
    ILogger<WebhookWarmUp> logger) : IHostedService
{
    /// <summary>The longest the start waits for the warm-up.</summary>
    internal static readonly TimeSpan Budget = TimeSpan.FromSeconds(10);

    /// <summary>The start of the warm-up callee's identity; a fresh GUID follows, so no real client can share it.</summary>
    internal const string IdentityPrefix = "callnotify-warm-up-";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (signatures.Accounts is not [var accountSid, ..])
        {
            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Budget);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var sender = scope.ServiceProvider.GetRequiredService<ISender>();
            var result = await sender.Send(Command(signatures, accountSid, webhook.Value.WebhookUrl), budget.Token);
            if (result.Verdict == WebhookVerdict.NoActiveClients)
            {
                // Information: the first run is slow by nature (it compiles the path); the mediator does not judge it either.
                logger.LogInformation(
                    "Warmed up the webhook path in {ElapsedMilliseconds} ms (a signed webhook for nobody: nothing recorded, nothing sent, not counted)",
                    (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            else
            {
                logger.LogWarning("The webhook warm-up was answered {Verdict} instead of no active clients", result.Verdict);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "The webhook warm-up failed; the service starts anyway, and its first webhook will be slower");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A webhook signed as Twilio signs it (<c>bodySHA256</c> in the URL, HMAC-SHA1 of the URL, by the signer beside the
    /// verifier), to a callee of its own with a message id of its own.
    /// </summary>
    public static ReceiveCallNotificationCommand Command(IWebhookSignatureVerifier signatures, string accountSid, string? webhookUrl)
    {
        // The same body a test call has (one builder), to a callee of the warm-up's own.
        var unique = Guid.NewGuid().ToString("N");
        var body = Application.Operations.TestCalls.Body(accountSid, IdentityPrefix + unique, "WB" + unique);
        var url = webhookUrl ?? "http://localhost" + TwilioWebhook.Path;
        var signed = signatures.SignAs(accountSid, url, body) ?? throw new InvalidOperationException($"The account {accountSid} is not configured.");
        return new ReceiveCallNotificationCommand(signed.Url, signed.Signature, body);
    }
}
