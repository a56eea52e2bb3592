using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SignOuts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "sign_outs",
                columns: table => new
                {
                    account_sid = table.Column<string>(type: "TEXT", maxLength: 34, nullable: false),
                    identity = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    signed_out_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sign_outs", x => new { x.account_sid, x.identity });
                });

            migrationBuilder.CreateIndex(
                name: "ix_sign_outs_signed_out_at",
                table: "sign_outs",
                column: "signed_out_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "sign_outs");
        }
    }
}
