using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.WebSockets.AcknowledgeDelivery;

/// <summary>A WebSocket client says it received a notification: its delivery is marked acknowledged.</summary>
public sealed record AcknowledgeDeliveryCommand(AccountSid AccountSid, ClientIdentity Identity, string SessionId, string TwiMessageId)
    : ICommand<bool>;

public sealed class AcknowledgeDeliveryHandler(INotificationStore notifications, TimeProvider time)
    : ICommandHandler<AcknowledgeDeliveryCommand, bool>
{
    public async ValueTask<bool> Handle(AcknowledgeDeliveryCommand command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var acknowledged = false;

        // A client can only acknowledge what was sent to its own identity.
        await notifications.UpdateAsync(
            command.AccountSid,
            command.TwiMessageId,
            n => acknowledged = n.Identity == command.Identity && n.Acknowledge(command.SessionId, now),
            cancellationToken);
        return acknowledged;
    }
}
