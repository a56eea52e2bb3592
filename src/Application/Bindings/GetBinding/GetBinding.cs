using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using Mediator;

namespace CallNotify.Application.Bindings.GetBinding;

public sealed record GetBindingQuery(string Id) : IQuery<BindingDto>;

public sealed class GetBindingHandler(IBindingRepository bindings) : IQueryHandler<GetBindingQuery, BindingDto>
{
    public async ValueTask<BindingDto> Handle(GetBindingQuery query, CancellationToken cancellationToken)
    {
        var binding = await bindings.GetAsync(query.Id, cancellationToken) ?? throw NotFoundException.For("Binding", query.Id);
        return BindingDto.From(binding);
    }
}
