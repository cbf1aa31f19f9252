"""Import last year's annex (its text, or an annex workbook this tool wrote) as a filled
standard template, checking it as it goes.

Each action's names are matched to the settings (case, accents and spacing forgiven); its
funders must add up to its total; the annex's own totals block must agree with the imported
actions. One cause gives one problem: a block line that disagrees only because of an amount
already reported (an unknown funder's, a line not understood, an action whose total or funder
was mistyped) is not reported again; the action's problem says which number the block confirms.
Whatever is not imported is kept, with its line, in the « Non importé » sheet of the output.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlfunding.errors import UnreadableFile
from xlfunding.import_book import read_workbook
from xlfunding.import_text import (
    NOT_IMPORTED_SHEET,
    TOTAL_LABEL,
    BlockLine,
    Leftover,
    RawAction,
    SourceRead,
    Where,
    fold,
    parse_text,
    read_text,
)
from xlfunding.model import Action, Location
from xlfunding.money import ZERO, format_euros
from xlfunding.problems import Problem, Report
from xlfunding.settings import Funder, Settings, extended_settings, load_settings

__all__ = ["ImportResult", "import_annex", "source_kind"]


@dataclass
class ImportResult:
    """What an import found: the actions, the problems, and what was not imported."""

    source: Path
    settings: Settings  # the output's settings: the given ones, plus any funder added
    actions: tuple[Action, ...]
    report: Report
    leftovers: tuple[Leftover, ...] = ()  # whole lines, and unknown funders' amounts
    added_funders: tuple[Funder, ...] = ()
    checked_totals: tuple[BlockLine, ...] = ()  # the annex's totals block lines compared
    inputs: tuple[Path, ...] = ()  # the files read (the annex, the settings): never overwritten

    @property
    def problems(self) -> list[Problem]:
        return self.report.problems

    @property
    def unparsed(self) -> tuple[Leftover, ...]:
        """The lines (or annex cells) that could not be understood at all."""
        return tuple(item for item in self.leftovers if item.whole)


def import_annex(
    path: Path | str, settings: Settings | None = None, *, add_funders: str | None = None
) -> ImportResult:
    """Read an annex: its text (.txt copied from the PDF or Word file) or an annex workbook.

    ``add_funders`` names a group of the settings: a funder the settings do not know is then
    added to it (``result.settings`` is the extended settings) instead of being a problem.
    Raises ``UnreadableFile`` (naming the file) only when the file cannot be read as an annex.
    """
    path = Path(path)
    settings = settings or load_settings()
    group = None
    if add_funders is not None:
        group = next((g for g in settings.groups if fold(g) == fold(add_funders)), None)
        if group is None:
            raise ValueError(
                f"groupe inconnu « {add_funders} » (groupes : {', '.join(settings.groups)})"
            )
    kind = source_kind(path)
    read = read_workbook(path) if kind == "xlsx" else parse_text(read_text(path), path, settings)
    return _Resolver(read, settings, group).run()


def source_kind(path: Path) -> str:
    """« xlsx » or « text »; ``UnreadableFile`` for a PDF, a Word file or a missing file."""
    import zipfile

    if not path.is_file():
        raise UnreadableFile(path, "fichier introuvable" if not path.exists() else "pas un fichier")
    with path.open("rb") as handle:
        head = handle.read(8)
    copy = (
        "copiez le tableau de l'annexe (intitulé, description, porteur, budget, puis les "
        "totaux) dans un fichier texte .txt et importez ce fichier"
    )
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile as exc:
            raise UnreadableFile(path, "archive .zip abîmée") from exc
        if "word/document.xml" in names:
            raise UnreadableFile(path, f"document Word : {copy}")
        return "xlsx"
    if head.startswith(b"%PDF"):
        raise UnreadableFile(path, f"document PDF : {copy}")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(path, f"ancien format Word ou Excel : {copy}")
    return "text"


# -- names, actions, checks ---------------------------------------------------------------------
class _Names:
    """The settings' names by their forgiving key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.axes = {fold(a): a for a in settings.axes}
        self.sponsors = {fold(s): s for s in settings.sponsors}
        self.groups = {fold(g): g for g in settings.groups}
        self.funders = {fold(f.label): f.code for f in settings.funders}
        self.funders.update({fold(f.code): f.code for f in settings.funders})

    def funder(self, name: str) -> str | None:
        return self.funders.get(fold(name))

    def group_of(self, code: str) -> str:
        return self.settings.funder(code).group

    def nearest_funder(self, name: str) -> str | None:
        close = difflib.get_close_matches(fold(name), list(self.funders), n=1, cutoff=0.75)
        return self.funders[close[0]] if close else None


@dataclass
class _Gap:
    """An action whose funders do not add up to its total (as printed)."""

    raw: RawAction
    funded: Decimal
    confirmed: BlockLine | None = None  # the block line that says which side is right

    @property
    def gap(self) -> Decimal:
        return self.raw.budget.total - self.funded


@dataclass
class _Resolver:
    read: SourceRead
    settings: Settings
    add_to: str | None
    problems: list[Problem] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    given: Settings = field(init=False)  # the settings before any funder is added

    def __post_init__(self) -> None:
        self.given = self.settings

    def problem(self, code: str, where: Where, message: str, value: object = None) -> None:
        """``message`` is written as inside a sentence; the report shows ``where`` before it."""
        self.problems.append(
            Problem.make(
                code,
                message[0].upper() + message[1:],
                file=self.read.path,
                sheet=where.sheet,
                cell=where.cell,
                value=value,
            )
        )

    def run(self) -> ImportResult:
        read = self.read
        self.problems.extend(read.problems)
        self.leftovers.extend(read.leftovers)
        added = self._extend_settings()
        names = _Names(self.settings)
        axes = self._axes(names)
        unattributed: list[tuple[Decimal, str | None]] = []  # (amount, likely group)
        gaps: list[_Gap] = []
        actions = [self._action(raw, names, axes, unattributed, gaps) for raw in read.actions]
        block = [b for b in (self._block_line(b, names) for b in read.block) if b is not None]
        self._check_block(block, actions, names, unattributed, gaps)
        for item in read.leftovers:
            self.problem("line-not-understood", item.where, _leftover_message(item), item.text)
        if not actions:
            self.problems.append(
                Problem.make(
                    "no-actions",
                    "Aucune action n'a été reconnue dans ce fichier : est-ce bien le tableau "
                    "de l'annexe, une action par ligne, colonnes séparées par des tabulations ?",
                    file=read.path,
                )
            )
        self.problems.sort(key=_sort_key)
        self.leftovers.sort(key=lambda item: item.line)
        report = Report(files=[read.path], actions=actions, problems=self.problems)
        return ImportResult(
            read.path,
            self.settings,
            tuple(actions),
            report,
            tuple(self.leftovers),
            added,
            tuple(block),
            tuple(p for p in (read.path, self.given.path) if p is not None),
        )

    def _extend_settings(self) -> tuple[Funder, ...]:
        if self.add_to is None:
            return ()
        names = _Names(self.settings)
        new: dict[str, str] = {}
        for raw in self.read.actions:
            for name, _ in raw.budget.items:
                if names.funder(name) is None:
                    new.setdefault(fold(name), name)
        if not new:
            return ()
        self.settings = extended_settings(self.settings, list(new.values()), self.add_to)
        return tuple(f for f in self.settings.funders if fold(f.code) in new)

    def _axes(self, names: _Names) -> dict[str, str]:
        found: dict[str, str] = {}
        for row in self.read.axes:
            canonical = names.axes.get(fold(row.name))
            if canonical is None:
                self.problem(
                    "unknown-axis",
                    row.where,
                    f"« {row.name} » n'est pas un axe des paramètres "
                    f"({' ; '.join(self.settings.axes)}). Les actions qui suivent sont importées "
                    "avec cet axe : choisissez le bon dans le modèle importé, ou corrigez les "
                    "paramètres.",
                    row.name,
                )
            found[row.name] = canonical or row.name
        return found

    def _action(
        self,
        raw: RawAction,
        names: _Names,
        axes: dict[str, str],
        unattributed: list[tuple[Decimal, str | None]],
        gaps: list[_Gap],
    ) -> Action:
        if not raw.axis:
            self.problem(
                "missing-value",
                raw.where,
                "cette action n'est sous aucun axe : choisissez son axe dans le modèle importé.",
            )
        sponsor = names.sponsors.get(fold(raw.sponsor))
        if sponsor is None and raw.sponsor:
            self.problem(
                "unknown-sponsor",
                raw.cell("sponsor"),
                f"« {raw.sponsor} » n'est pas un porteur des paramètres "
                f"({', '.join(self.settings.sponsors)}) : l'action est importée avec ce "
                "porteur ; choisissez le bon dans le modèle importé, ou corrigez les paramètres.",
                raw.sponsor,
            )
        elif sponsor is None:
            self.problem(
                "missing-value",
                raw.cell("sponsor"),
                "le porteur de cette action manque : choisissez-le dans le modèle importé.",
            )
        funding: dict[str, Decimal] = {}
        for name, amount in raw.budget.items:
            code = names.funder(name)
            if code is None:
                self._unknown_funder(raw, name, amount, names, unattributed)
            elif amount:
                funding[code] = funding.get(code, ZERO) + amount
        if raw.budget.funded != raw.budget.total:
            gaps.append(_Gap(raw, raw.budget.funded))
        return Action(
            axis=axes.get(raw.axis, raw.axis),
            title=raw.title,
            description=raw.description,
            sponsor=sponsor or raw.sponsor,
            total=raw.budget.total,
            funding=funding,
            source=Location(self.read.path, raw.where.sheet or "", raw.where.line),
        )

    def _unknown_funder(
        self,
        raw: RawAction,
        name: str,
        amount: Decimal,
        names: _Names,
        unattributed: list[tuple[Decimal, str | None]],
    ) -> None:
        nearest = names.nearest_funder(name)
        hint = f" (vouliez-vous dire « {nearest} » ?)" if nearest else ""
        where = raw.cell(name)
        self.problem(
            "unknown-funder",
            where,
            f"« {name} » n'est pas un financeur des paramètres{hint} : son montant "
            f"({format_euros(amount)}) n'a pas été importé. Corrigez le nom dans l'annexe et "
            "relancez l'import, ou ajoutez ce financeur avec --add-funders GROUPE.",
            name,
        )
        self.leftovers.append(
            Leftover(
                where,
                f"{name} = {format_euros(amount)}",
                f"financeur inconnu « {name} » : montant non importé (action « {raw.title} »)",
                whole=False,
            )
        )
        unattributed.append((amount, names.group_of(nearest) if nearest else None))

    def _block_line(self, line: BlockLine, names: _Names) -> BlockLine | None:
        if line.label == TOTAL_LABEL or line.label in self.settings.groups:
            return line
        group = names.groups.get(fold(line.label))
        if group is None:
            self.leftovers.append(
                Leftover(
                    line.where,
                    f"{line.label} : {format_euros(line.amount)}",
                    f"groupe « {line.label} » absent des paramètres : ce total n'a pas été vérifié",
                )
            )
            return None
        return BlockLine(line.where, group, line.amount)

    def _check_block(
        self,
        block: list[BlockLine],
        actions: list[Action],
        names: _Names,
        unattributed: list[tuple[Decimal, str | None]],
        gaps: list[_Gap],
    ) -> None:
        """Compare each block line with the imported actions, once the amounts already
        reported (not imported, or mistyped in one action) are allowed for."""
        imported = {TOTAL_LABEL: sum((a.total for a in actions), ZERO)}
        for group in self.settings.groups:
            members = self.settings.group_members(group)
            imported[group] = sum((a.amount(c) for a in actions for c in members), ZERO)
        residual = {line: line.amount - imported[line.label] for line in block}
        explained = dict.fromkeys(block, ZERO)

        def lines(label: str) -> list[BlockLine]:
            return [line for line in block if line.label == label]

        def allow(label: str, amount: Decimal, *, only_if_exact: bool) -> bool:
            targets = lines(label)
            if not targets or (only_if_exact and any(residual[t] != amount for t in targets)):
                return False
            for target in targets:
                residual[target] -= amount
                explained[target] += amount
            return True

        for item in self.leftovers:  # whole lines whose budget could be read
            if item.budget is None:
                continue
            allow(TOTAL_LABEL, item.budget.total, only_if_exact=False)
            for name, amount in item.budget.items:
                code = names.funder(name)
                if code is not None:
                    allow(names.group_of(code), amount, only_if_exact=False)
                else:
                    nearest = names.nearest_funder(name)
                    unattributed.append((amount, names.group_of(nearest) if nearest else None))
        for amount, likely in unattributed:
            for group in [*([likely] if likely else []), *self.settings.groups]:
                if allow(group, amount, only_if_exact=True):
                    break
        for gap in gaps:
            if allow(TOTAL_LABEL, -gap.gap, only_if_exact=True):
                gap.confirmed = lines(TOTAL_LABEL)[0]
                continue
            for group in self.settings.groups:
                if allow(group, gap.gap, only_if_exact=True):
                    gap.confirmed = lines(group)[0]
                    break
        for gap in gaps:
            self._gap_problem(gap)
        for line in block:
            if residual[line]:
                self._block_problem(line, imported[line.label], explained[line])

    def _gap_problem(self, gap: _Gap) -> None:
        total, funded = gap.raw.budget.total, gap.funded
        message = (
            f"les financeurs totalisent {format_euros(funded)} pour un coût total de "
            f"{format_euros(total)} (écart {format_euros(gap.gap)})."
        )
        confirmed = gap.confirmed
        if confirmed is not None and confirmed.label == TOTAL_LABEL:
            message += (
                f" Le TOTAL de l'annexe ({confirmed.where.label}) s'accorde avec les "
                "financements : c'est sans doute le coût total qui est faux."
            )
        elif confirmed is not None:
            message += (
                f" Le total « {confirmed.label} » de l'annexe ({confirmed.where.label}) "
                "s'accorde avec le coût total : c'est sans doute un montant du groupe "
                f"{confirmed.label} qui est faux."
            )
        message += " Corrigez-le dans le modèle importé (la colonne « Écart » doit revenir à 0)."
        self.problem("funders-do-not-add-up", gap.raw.cell("total"), message, total)

    def _block_problem(self, line: BlockLine, imported: Decimal, explained: Decimal) -> None:
        gap = line.amount - imported
        message = (
            f"{line.label} indique {format_euros(line.amount)}, les actions importées "
            f"totalisent {format_euros(imported)} (écart {format_euros(gap)})"
        )
        if explained:
            message += (
                f", dont {format_euros(explained)} viennent de montants non importés signalés "
                f"par ailleurs : il reste {format_euros(gap - explained)} inexpliqués"
            )
        message += (
            ". Un montant de l'annexe d'origine est faux, ou une action manque : vérifiez-la, "
            "puis corrigez le modèle importé."
        )
        self.problem("annex-total-mismatch", line.where, message, line.amount)


def _leftover_message(item: Leftover) -> str:
    message = f"{item.reason} ; la ligne est recopiée dans l'onglet « {NOT_IMPORTED_SHEET} »."
    if item.budget is not None:
        message += (
            f" Elle porte un budget de {format_euros(item.budget.total)} : corrigez-la et "
            "relancez l'import, ou ajoutez l'action à la main dans le modèle importé."
        )
    return message


def _sort_key(problem: Problem) -> tuple[int, str]:
    cell = problem.cell or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)
