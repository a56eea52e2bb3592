using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Notifications.GetNotification;

public sealed record GetNotificationQuery(string? AccountSid, string TwiMessageId) : IQuery<NotificationDto>;

public sealed class GetNotificationHandler(INotificationHistory notifications) : IQueryHandler<GetNotificationQuery, NotificationDto>
{
    public async ValueTask<NotificationDto> Handle(GetNotificationQuery query, CancellationToken cancellationToken)
    {
        var notification = await notifications.FindAsync(AccountSid.Parse(query.AccountSid), query.TwiMessageId, cancellationToken)
            ?? throw NotFoundException.For("Notification", query.TwiMessageId);
        return NotificationDto.FromEntity(notification);
    }
}
