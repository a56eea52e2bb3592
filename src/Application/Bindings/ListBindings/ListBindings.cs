using CallNotify.Application.Common.Paging;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Bindings.ListBindings;

public sealed record ListBindingsQuery(
    string? AccountSid,
    string? Identity,
    string? Channel,
    string? Status,
    int? PageSize,
    string? PageToken) : IQuery<Page<BindingDto>>;

public sealed class ListBindingsHandler(IBindingRepository bindings) : IQueryHandler<ListBindingsQuery, Page<BindingDto>>
{
    public async ValueTask<Page<BindingDto>> Handle(ListBindingsQuery query, CancellationToken cancellationToken)
    {
        PageToken.TryDecode(query.PageToken, Ids.BindingPrefix, out var afterId);
        var pageSize = query.PageSize ?? PageToken.DefaultPageSize;
        ChannelKind? channel = ChannelKinds.TryParse(query.Channel, out var kind) ? kind : null;
        BindingStatus? status = BindingStatuses.TryParse(query.Status, out var parsed) ? parsed : null;

        // One more than asked tells whether another page follows.
        var rows = await bindings.ListAsync(
            new BindingQuery(
                query.AccountSid is null ? null : AccountSid.Parse(query.AccountSid),
                query.Identity is null ? null : ClientIdentity.Parse(query.Identity),
                channel, status, afterId, pageSize + 1),
            cancellationToken);
        var items = rows.Take(pageSize).Select(BindingDto.From).ToList();
        var next = rows.Count > pageSize ? PageToken.Encode(items[^1].Id) : null;
        return new Page<BindingDto>(items, next);
    }
}
