using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Postgres
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
                    account_sid = table.Column<string>(type: "character varying(34)", maxLength: 34, nullable: false),
                    identity = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    signed_out_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
