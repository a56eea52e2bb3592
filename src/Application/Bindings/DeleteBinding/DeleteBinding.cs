using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using Mediator;

namespace CallNotify.Application.Bindings.DeleteBinding;

public sealed record DeleteBindingCommand(string Id) : ICommand;

public sealed class DeleteBindingHandler(IBindingRepository bindings) : ICommandHandler<DeleteBindingCommand>
{
    public async ValueTask<Unit> Handle(DeleteBindingCommand command, CancellationToken cancellationToken) =>
        await bindings.DeleteAsync(command.Id, cancellationToken)
            ? Unit.Value
            : throw NotFoundException.For("Binding", command.Id);
}
