using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using FluentValidation;
using Mediator;

namespace CallNotify.Application.Clients;

/// <summary>
/// A push client says "this device received this invite" (<c>POST /v1/receipts</c>): the delivery of that message to
/// that device's binding is acknowledged, as a WebSocket ack does. False when the caller's identity had no delivery of
/// that message on that device. Idempotent.
/// </summary>
public sealed record RecordReceiptCommand(ClientCaller Caller, string? TwiMessageId, string? Channel, string? Address) : ICommand<bool>;

public sealed class RecordReceiptValidator : AbstractValidator<RecordReceiptCommand>
{
    public RecordReceiptValidator()
    {
        RuleFor(x => x.TwiMessageId).NotEmpty().MaximumLength(CallNotification.MaxFieldLength).OverridePropertyName("twi_message_id");
        RuleFor(x => x.Channel).MustBePushChannel();
        RuleFor(x => x.Address).NotEmpty().MaximumLength(PushAddress.MaxLength);
    }
}

public sealed class RecordReceiptHandler(
    IBindingRepository bindings,
    INotificationStore notifications,
    CallNotifyMetrics metrics,
    TimeProvider time) : ICommandHandler<RecordReceiptCommand, bool>
{
    public async ValueTask<bool> Handle(RecordReceiptCommand command, CancellationToken cancellationToken)
    {
        var caller = command.Caller;
        var channel = ChannelKinds.ParseBindingChannel(command.Channel);
        var binding = await bindings.FindByAddressAsync(channel, command.Address!, cancellationToken);
        if (binding is null || !binding.BelongsTo(caller.AccountSid, caller.Identity))
        {
            return false;
        }

        var now = time.GetUtcNow();
        var found = false;
        var acknowledged = false;
        await notifications.UpdateAsync(
            caller.AccountSid,
            command.TwiMessageId!,
            n =>
            {
                // The caller's own notification, with a delivery to this very binding.
                found = n.Identity == caller.Identity && n.Deliveries.Any(d => d.BindingId == binding.Id);
                acknowledged = found && n.AcknowledgeBinding(binding.Id, now);
                return acknowledged;
            },
            cancellationToken);
        if (acknowledged)
        {
            metrics.ReceiptRecorded(channel);
        }

        return found;
    }
}
