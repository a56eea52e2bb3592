using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Notifications;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Application.Calls.ReceiveCallNotification;

/// <summary>Twilio's Client Call Notification Webhook: one incoming call for one callee.</summary>
/// <param name="Url">The public URL Twilio called, query string exactly as received.</param>
/// <param name="Signature">The <c>X-Twilio-Signature</c> header.</param>
/// <param name="Body">The raw body bytes.</param>
public sealed record ReceiveCallNotificationCommand(string Url, string? Signature, ReadOnlyMemory<byte> Body)
    : ICommand<WebhookResult>;

public enum WebhookVerdict
{
    /// <summary>At least one client took the notification (200).</summary>
    Delivered,

    /// <summary>The callee has no client, or every client turned out to be gone (404).</summary>
    NoActiveClients,

    /// <summary>Nothing accepted in time, or every delivery failed for a passing reason (503).</summary>
    Unavailable,

    /// <summary>Bad or missing signature, or an account this service does not serve (403).</summary>
    Forbidden,

    /// <summary>The body is not a call notification (400).</summary>
    Invalid,
}

public sealed record WebhookResult(WebhookVerdict Verdict, string? Field = null, string? Detail = null)
{
    public static WebhookResult FromOutcome(NotificationOutcome outcome) => outcome switch
    {
        NotificationOutcome.Delivered => new(WebhookVerdict.Delivered),
        NotificationOutcome.NoActiveClients => new(WebhookVerdict.NoActiveClients),
        _ => new(WebhookVerdict.Unavailable),
    };
}

public sealed class ReceiveCallNotificationHandler(
    IWebhookSignatureVerifier signatures,
    INotificationStore notifications,
    NotificationDispatcher dispatcher,
    IOptions<DispatchOptions> options,
    IOptions<StoreBudgetOptions> storeBudget,
    TimeProvider time) : ICommandHandler<ReceiveCallNotificationCommand, WebhookResult>
{
    private static readonly TimeSpan ReplayPollInterval = TimeSpan.FromMilliseconds(50);

    public async ValueTask<WebhookResult> Handle(ReceiveCallNotificationCommand command, CancellationToken cancellationToken)
    {
        // 1. Signature: the URL is signed, and the URL carries the body's SHA-256.
        var verdict = signatures.Verify(command.Url, command.Signature, command.Body.Span);
        if (!verdict.IsValid)
        {
            return new WebhookResult(WebhookVerdict.Forbidden, Detail: "The request signature is missing or wrong.");
        }

        // 2. Shape.
        if (!WebhookBody.TryParse(command.Body.Span, out var body, out var error))
        {
            return new WebhookResult(WebhookVerdict.Invalid, error!.Field, error.Message);
        }

        // A body naming another account than the one that signed it is never routed.
        var account = body!.AccountSid;
        if ((verdict.SignedBy is { } signer && signer != account.Value) || !signatures.IsConfigured(account.Value))
        {
            return new WebhookResult(WebhookVerdict.Forbidden, Detail: "The account is not served here.");
        }

        // Every store wait from here on ends by the budget's end, whether or not the store honours cancellation: a
        // hung database must not hold Twilio past its timeout.
        using var budgetTimer = new CancellationTokenSource(storeBudget.Value.WebhookBudget, time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budgetTimer.Token);
        try
        {
            return await RecordAndDispatchAsync(command, body, budget.Token, cancellationToken);
        }
        catch (OperationCanceledException) when (budgetTimer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new WebhookResult(WebhookVerdict.Unavailable, Detail: "The store did not answer in time.");
        }
    }

    private async Task<WebhookResult> RecordAndDispatchAsync(
        ReceiveCallNotificationCommand command, WebhookBody body, CancellationToken budget, CancellationToken cancellationToken)
    {
        // 3. Lookup and record, in one step of the store: every active client of (account, identity) gets a delivery.
        // The unique (account, twi_message_id) makes a repeat answer from the record.
        var account = body.AccountSid;
        var now = time.GetUtcNow();
        var call = CallNotification.Arrive(
            account,
            body.MessageId,
            body.CallSid,
            body.From,
            body.To,
            body.Identity,
            body.MessageType,
            command.Body,
            now,
            options.Value.InviteTtl);

        // The write is not abandoned with the wait: if it commits after this request stopped waiting, its deliveries
        // start then, as they would have here (a record with nobody dispatching it would ring only at takeover).
        var recording = notifications.RecordAsync(call, CancellationToken.None);
        CallRecording recorded;
        try
        {
            recorded = await recording.WaitAsync(budget);
        }
        catch (OperationCanceledException)
        {
            dispatcher.DispatchOnceRecorded(recording);
            throw;
        }

        switch (recorded.Kind)
        {
            case CallRecordingKind.NoClients:
                // Nobody to ring, and the answer is remembered: the same signed request replayed later, when the callee
                // is online, rings nobody either (SPEC §3 step 6). A message recorded or remembered meanwhile (a
                // repeat, whose clients may have gone since) is answered from what was.
                return await notifications.TryRememberAsync(account, body.MessageId, NotificationOutcome.NoActiveClients, now, budget).WaitAsync(budget)
                    ? new WebhookResult(WebhookVerdict.NoActiveClients)
                    : await ReplayAsync(body, budget);
            case CallRecordingKind.AlreadyKnown:
                return await ReplayAsync(body, budget);
        }

        // 4. Answer at the first accepted delivery; the rest go on.
        var outcome = await dispatcher.DispatchAsync(recorded.Notification!, recorded.Bindings, cancellationToken);
        return WebhookResult.FromOutcome(outcome);
    }

    /// <summary>
    /// The same webhook again (Twilio retries): nothing is sent; the answer is the recorded outcome, waited for
    /// up to the response deadline while the first request is still deciding it.
    /// </summary>
    private async Task<WebhookResult> ReplayAsync(WebhookBody body, CancellationToken budget)
    {
        var giveUpAt = time.GetUtcNow() + options.Value.ResponseDeadline;
        while (true)
        {
            var recorded = await notifications.FindAsync(body.AccountSid, body.MessageId, budget).WaitAsync(budget);
            if (recorded is null)
            {
                // Answered without a record, or its record was purged: what was remembered of it.
                var remembered = await notifications.FindRememberedAsync(body.AccountSid, body.MessageId, budget).WaitAsync(budget);
                return remembered is { } outcome ? WebhookResult.FromOutcome(outcome) : new WebhookResult(WebhookVerdict.Unavailable);
            }

            if (recorded.Outcome != NotificationOutcome.Pending || time.GetUtcNow() >= giveUpAt)
            {
                return WebhookResult.FromOutcome(recorded.Outcome);
            }

            await Task.Delay(ReplayPollInterval, time, budget);
        }
    }
}
