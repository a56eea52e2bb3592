using System.Security.Cryptography;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Application.Common.Validation;
using CallNotify.Domain.Common;
using FluentValidation;
using Mediator;

namespace CallNotify.Application.Operations;

/// <summary>What the console's overview shows (<c>GET /admin/v1/overview</c>).</summary>
public sealed record GetOverviewQuery : IQuery<Overview>;

/// <param name="WindowMinutes">The span of <paramref name="Webhooks"/> and <paramref name="Deliveries"/>, on this instance.</param>
public sealed record Overview(
    StoreStatus Store,
    IReadOnlyList<ChannelStatus> Channels,
    int WindowMinutes,
    IReadOnlyList<WebhookCount> Webhooks,
    IReadOnlyList<DeliveryCount> Deliveries);

public sealed record ChannelStatus(string Channel, bool Enabled);

public sealed class GetOverviewHandler(
    IOperationsStatus status,
    IEnumerable<INotificationChannel> channels,
    RecentActivity activity) : IQueryHandler<GetOverviewQuery, Overview>
{
    public async ValueTask<Overview> Handle(GetOverviewQuery query, CancellationToken cancellationToken)
    {
        var store = await status.StoreAsync(cancellationToken);
        var enabled = channels.Select(c => c.Kind).ToHashSet();
        ChannelStatus[] all = [.. Enum.GetValues<ChannelKind>().Select(k => new ChannelStatus(k.ToWire(), enabled.Contains(k)))];
        var (webhooks, deliveries) = activity.Snapshot();
        return new Overview(store, all, RecentActivity.WindowMinutes, webhooks, deliveries);
    }
}

/// <summary>The live sessions of one identity, on every instance (<c>GET /admin/v1/sessions</c>).</summary>
public sealed record ListSessionsQuery(string? AccountSid, string? Identity) : IQuery<IReadOnlyList<LiveSession>>;

public sealed class ListSessionsValidator : AbstractValidator<ListSessionsQuery>
{
    public ListSessionsValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid();
        RuleFor(x => x.Identity).MustBeIdentity();
    }
}

public sealed class ListSessionsHandler(ILiveSessionRegistry sessions) : IQueryHandler<ListSessionsQuery, IReadOnlyList<LiveSession>>
{
    public async ValueTask<IReadOnlyList<LiveSession>> Handle(ListSessionsQuery query, CancellationToken cancellationToken) =>
        await sessions.FindAsync(AccountSid.Parse(query.AccountSid), ClientIdentity.Parse(query.Identity), cancellationToken);
}

/// <summary>
/// A test call (<c>POST /admin/v1/test-calls</c>): a call notification for (account, identity) as Twilio would send it,
/// signed with the account's Auth Token, to go through the real webhook path. Its caller is
/// <see cref="TestCalls.From"/>, which is how its record says it was a test; its bridge token is a placeholder, so a real
/// Voice SDK shows an invite it cannot answer.
/// </summary>
public sealed record PrepareTestCallCommand(string? AccountSid, string? Identity, string WebhookUrl) : ICommand<TestCall>;

/// <summary>The signed request to post to the webhook path, and the message id it carries.</summary>
public sealed record TestCall(string TwiMessageId, string Url, string Signature, byte[] Body);

public sealed class PrepareTestCallValidator : AbstractValidator<PrepareTestCallCommand>
{
    public PrepareTestCallValidator(IWebhookSignatureVerifier signatures)
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid()
            .DependentRules(() => RuleFor(x => x.AccountSid)
                .Must(a => signatures.IsConfigured(a!))
                .WithMessage("'{PropertyName}' is not an account served here (Twilio:Accounts)."));
        RuleFor(x => x.Identity).MustBeIdentity();
    }
}

public sealed class PrepareTestCallHandler(IWebhookSignatureVerifier signatures) : ICommandHandler<PrepareTestCallCommand, TestCall>
{
    public ValueTask<TestCall> Handle(PrepareTestCallCommand command, CancellationToken cancellationToken)
    {
        var messageId = "WB" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var body = TestCalls.Body(command.AccountSid!, command.Identity!, messageId);
        // The validator made sure the account is served.
        var signed = signatures.SignAs(command.AccountSid!, command.WebhookUrl, body)
            ?? throw new InvalidOperationException($"The account {command.AccountSid} has no Auth Token to sign with.");
        return ValueTask.FromResult(new TestCall(messageId, signed.Url, signed.Signature, body));
    }
}

public static class TestCalls
{
    /// <summary>The caller of every test call: a record from it was a test.</summary>
    public const string From = "client:callnotify-test-call";

    /// <summary>Not a bridge token Twilio issued: a Voice SDK shows the invite and cannot answer it.</summary>
    public const string BridgeToken = "callnotify-test-call-placeholder";

    public static byte[] Body(string accountSid, string identity, string messageId)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("twi_account_sid", accountSid);
            json.WriteString("twi_bridge_token", BridgeToken);
            json.WriteString("twi_call_sid", "CA" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
            json.WriteString("twi_from", From);
            json.WriteString("twi_message_id", messageId);
            json.WriteString("twi_message_type", "twilio.voice.call");
            json.WriteString("twi_to", "client:" + identity);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static bool IsTest(string? from) => from == From;
}
