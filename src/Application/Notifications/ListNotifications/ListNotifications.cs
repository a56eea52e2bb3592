using CallNotify.Application.Common.Paging;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Notifications.ListNotifications;

public sealed record ListNotificationsQuery(
    string? AccountSid,
    string? Identity,
    string? CallSid,
    int? PageSize,
    string? PageToken) : IQuery<Page<NotificationDto>>;

public sealed class ListNotificationsHandler(INotificationHistory notifications)
    : IQueryHandler<ListNotificationsQuery, Page<NotificationDto>>
{
    public async ValueTask<Page<NotificationDto>> Handle(ListNotificationsQuery query, CancellationToken cancellationToken)
    {
        PageToken.TryDecode(query.PageToken, Ids.NotificationPrefix, out var beforeId);
        var pageSize = query.PageSize ?? PageToken.DefaultPageSize;
        var rows = await notifications.ListAsync(
            new NotificationQuery(
                query.AccountSid is null ? null : AccountSid.Parse(query.AccountSid),
                query.Identity is null ? null : ClientIdentity.Parse(query.Identity),
                query.CallSid, beforeId, pageSize + 1),
            cancellationToken);
        var page = rows.Take(pageSize).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(page[^1].Id) : null;
        return new Page<NotificationDto>([.. page.Select(NotificationDto.FromEntity)], next);
    }
}
