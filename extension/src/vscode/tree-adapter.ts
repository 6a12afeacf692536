import * as vscode from "vscode";
import type { TreeItemModel } from "./tree-item-model.ts";

const COLLAPSIBLE = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
} as const;

/** A plain item model as a `vscode.TreeItem`; `args` go to the click command. */
export function toTreeItem(model: TreeItemModel, args: unknown[] = [], folder?: vscode.Uri): vscode.TreeItem {
  const item = new vscode.TreeItem(model.label, COLLAPSIBLE[model.collapsible]);
  item.id = model.id;
  if (model.description !== undefined) item.description = model.description;
  item.tooltip = new vscode.MarkdownString(model.tooltip);
  item.contextValue = model.contextValue;
  if (model.resourcePath && folder) {
    item.resourceUri = vscode.Uri.joinPath(folder, model.resourcePath);
    item.iconPath = vscode.ThemeIcon.File;
  } else {
    item.iconPath = new vscode.ThemeIcon(model.icon);
  }
  if (model.command) item.command = { ...model.command, arguments: args };
  return item;
}
